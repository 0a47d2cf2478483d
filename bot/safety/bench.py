"""Throughput of the crisis check on the bundled evaluation messages, for ``make bench``."""

from __future__ import annotations

import time
from itertools import cycle, islice

from bot.safety.classifier import Classifier
from bot.safety.evaluation import HOLDOUT_FILE, TUNING_FILE, bundled_examples


def measure(n: int = 20000) -> dict[str, float]:
    """Classifies ``n`` messages cycling through the eval sets; reports rate and latency."""
    started = time.perf_counter()
    classifier = Classifier.bundled()
    texts = [e.text for name in (TUNING_FILE, HOLDOUT_FILE) for e in bundled_examples(name)]
    classifier.classify(texts[0])
    loaded = time.perf_counter()
    cold_started = time.perf_counter()
    for text in texts:
        classifier.classify(text)
    cold = time.perf_counter() - cold_started
    begin = time.perf_counter()
    for text in islice(cycle(texts), n):
        classifier.classify(text)
    elapsed = time.perf_counter() - begin
    return {
        "messages": float(n),
        "messages_per_second": n / elapsed if elapsed else float("inf"),
        "mean_microseconds": elapsed / n * 1e6 if n else 0.0,
        "first_pass_mean_microseconds": cold / len(texts) * 1e6,
        "load_seconds": loaded - started,
    }
