"""Worker: the background loops' one shape (a pass, a wait cut short by wake, stop)."""

from __future__ import annotations

import asyncio

from bot.core.worker import Worker


class Counting(Worker):
    def __init__(self, failing: int = 0) -> None:
        super().__init__()
        self.passes = 0
        self.failing = failing
        self.failures: list[int] = []

    async def tick(self) -> float:
        self.passes += 1
        if self.failing:
            self.failing -= 1
            raise RuntimeError("disk")
        return 3600.0

    def failed(self, exc: Exception, failures: int) -> float:
        self.failures.append(failures)
        return 0.0


async def until(predicate: object) -> None:
    for _ in range(200):
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


async def test_a_wake_starts_the_next_pass_at_once_and_stop_ends_the_loop() -> None:
    worker = Counting()
    task = asyncio.create_task(worker.run())
    await until(lambda: worker.passes == 1)
    worker.wake()
    await until(lambda: worker.passes == 2)
    await worker.stop()
    await asyncio.wait_for(task, 1.0)
    assert worker.passes == 2


async def test_a_failing_pass_is_tried_again_and_the_count_of_failures_resets() -> None:
    worker = Counting(failing=2)
    task = asyncio.create_task(worker.run())
    await until(lambda: worker.passes == 3)
    await worker.stop()
    await asyncio.wait_for(task, 1.0)
    assert worker.failures == [1, 2]
