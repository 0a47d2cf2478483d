"""Cost of the crisis check, for ``make bench``: per-message latency, long messages, memory."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from itertools import cycle, islice

from bot.safety.classifier import Classifier
from bot.safety.corpus import bundled_split

LONG_CHARS = 10_000


def measure(n: int = 20000) -> dict[str, float]:
    """Classifies ``n`` corpus messages; reports rate, latency percentiles and memory."""
    tracemalloc.start()
    started = time.perf_counter()
    classifier = Classifier.bundled()
    texts = [e.text for split in ("train", "dev") for e in bundled_split(split)]
    classifier.classify(texts[0])
    loaded = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    cold_started = time.perf_counter()
    for text in texts:
        classifier.classify(text)
    cold = time.perf_counter() - cold_started
    timings: list[float] = []
    for text in islice(cycle(texts), n):
        begin = time.perf_counter()
        classifier.classify(text)
        timings.append(time.perf_counter() - begin)
    elapsed = sum(timings)
    long_text = " ".join(islice(cycle(texts), 400))[:LONG_CHARS]
    long_times = []
    for _ in range(5):
        begin = time.perf_counter()
        classifier.classify(long_text)
        long_times.append(time.perf_counter() - begin)
    cuts = statistics.quantiles(timings, n=100) if len(timings) > 1 else [elapsed] * 99
    return {
        "messages": float(n),
        "model": float(classifier.model is not None),
        "messages_per_second": n / elapsed if elapsed else float("inf"),
        "mean_microseconds": elapsed / n * 1e6 if n else 0.0,
        "p50_microseconds": cuts[49] * 1e6,
        "p99_microseconds": cuts[98] * 1e6,
        "max_microseconds": max(timings) * 1e6 if timings else 0.0,
        "long_10k_chars_milliseconds": max(long_times) * 1e3,
        "first_pass_mean_microseconds": cold / len(texts) * 1e6,
        "load_seconds": loaded - started,
        "load_peak_megabytes": peak / 1e6,
    }
