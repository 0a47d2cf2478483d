"""Reading `/readyz` and `/metrics` of a running service, as a monitor on the same machine."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Config
from bot.monitorconfig import Health
from bot.run import Service


def with_health(config: Config, **settings: int) -> Config:
    return dataclasses.replace(config, health=dataclasses.replace(Health(), **settings))


async def get(service: Service, path: str, **headers: str) -> httpx.Response:
    assert service.web is not None
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{service.web.port}{path}", headers=headers)


async def readyz(service: Service) -> tuple[int, str]:
    answer = await get(service, "/readyz")
    return answer.status_code, answer.text


async def ready_again(service: Service, within: float = 10.0) -> tuple[int, str]:
    """/readyz once it says ready, or its last answer after `within` seconds (a channel is
    "silent" until its next successful poll, which the back-off may hold up to 5 s)."""
    return await readyz_says(service, (200, "ready"), within)


async def readyz_says(
    service: Service, expected: tuple[int, str], within: float = 10.0
) -> tuple[int, str]:
    """/readyz once it answers `expected`, or its last answer after `within` seconds.

    A poll in flight when Telegram starts failing still succeeds, so "silent" comes a
    poll later than the fault: a loaded machine must not make the check flaky.
    """
    deadline = asyncio.get_running_loop().time() + within
    answer = await readyz(service)
    while answer != expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        answer = await readyz(service)
    return answer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def families(text: str) -> set[str]:
    """The metric names an exposition declares (a counter also as name_total)."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


async def metric(service: Service, name: str, **labels: str) -> float:
    answer = await get(service, "/metrics")
    assert answer.status_code == 200, answer.text
    return samples(answer.text)[(name, tuple(sorted(labels.items())))]
