"""`/metrics` in Prometheus' text format: counts, ages and times, never text or ids.

Cheap to serve: the counters are read from memory (`bot.core.tally`, each channel's
pulse) and three indexed queries give the outbox's backlog, the cases waiting and
the urgent cases whose alert reached nobody. Every series a rule in
`deploy/alerts.yml` names is present from the start (at zero), so an alert on a
series that has never moved still evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.monitoring.sources import Sources
from storage.records import URGENCIES

__all__ = ["LEVELS", "render_metrics"]

LEVELS = ("none", "check", "urgent")


class _Fixed(Collector):
    """Hands the registry families already built (the queries are async, collect is not)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def _age(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def _counter(name: str, doc: str, label: str, counts: Iterable[tuple[str, int]]) -> Metric:
    family = CounterMetricFamily(name, doc, labels=[label])
    for value, count in sorted(counts):
        family.add_metric([value], count)
    return family


async def render_metrics(sources: Sources, ready: bool) -> bytes:
    """The exposition text; reads the store three times (indexed, nothing decrypted)."""
    now = sources.clock()
    tally = sources.tally
    families: list[Metric] = []
    channels = sorted(set(sources.channels) | set(tally.received) | set(tally.sent))
    families.append(
        _counter(
            "lk3_messages_received",
            "Messages stored from families and staff, per channel.",
            "channel",
            ((c, tally.received[c]) for c in channels),
        )
    )
    families.append(
        _counter(
            "lk3_messages_sent",
            "Messages the channel accepted for delivery, per channel.",
            "channel",
            ((c, tally.sent[c]) for c in channels),
        )
    )
    failures = CounterMetricFamily(
        "lk3_send_failures",
        "Failed send attempts, per channel and reason code.",
        labels=["channel", "reason"],
    )
    for (channel, reason), count in sorted(tally.send_failures.items()):
        failures.add_metric([channel, reason], count)
    families.append(failures)
    families.append(
        _counter(
            "lk3_crisis_assessments",
            "Crisis checks made, per level found.",
            "level",
            ((lv, tally.assessed[lv]) for lv in sorted(set(LEVELS) | set(tally.assessed))),
        )
    )
    kinds = sorted({"case_undelivered", "channel_unreachable"} | set(tally.notices))
    families.append(
        _counter(
            "lk3_supervisor_notices",
            "Notices sent to supervisors by the second route, per fault kind.",
            "kind",
            ((k, tally.notices[k]) for k in kinds),
        )
    )
    backlog = await sources.store.monitoring.backlog(now)
    families.append(
        GaugeMetricFamily("lk3_outbox_due", "Replies and alerts due and not yet sent.", backlog.due)
    )
    families.append(
        GaugeMetricFamily(
            "lk3_outbox_oldest_due_age_seconds",
            "How long the oldest reply due has waited (0 when none).",
            _age(now, backlog.oldest_due_at),
        )
    )
    waiting = {w.urgency: w for w in await sources.store.monitoring.waiting()}
    waiting_count = GaugeMetricFamily(
        "lk3_cases_waiting", "Cases in the queue nobody has taken, per urgency.", labels=["urgency"]
    )
    longest = GaugeMetricFamily(
        "lk3_cases_longest_wait_seconds",
        "How long the longest-waiting case of each urgency has waited.",
        labels=["urgency"],
    )
    for urgency in URGENCIES:
        found = waiting.get(urgency)
        waiting_count.add_metric([urgency], 0 if found is None else found.count)
        longest.add_metric([urgency], _age(now, None if found is None else found.oldest_since))
    families += [waiting_count, longest]
    unalerted = await sources.store.monitoring.undelivered()
    families.append(
        GaugeMetricFamily(
            "lk3_urgent_cases_unalerted",
            "Urgent cases waiting whose alert has reached no counsellor.",
            len(unalerted),
        )
    )
    families.append(
        GaugeMetricFamily(
            "lk3_urgent_cases_unalerted_longest_wait_seconds",
            "How long the longest of those has waited (0 when none).",
            _age(now, unalerted[0].waiting_since if unalerted else None),
        )
    )
    families.extend(_channel_families(sources))
    families.append(
        GaugeMetricFamily(
            "lk3_storage_writable", "1 while the database takes writes.", int(sources.writes.ok)
        )
    )
    families.append(GaugeMetricFamily("lk3_ready", "1 while /readyz answers 200.", int(ready)))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return generate_latest(registry)


def _channel_families(sources: Sources) -> list[Metric]:
    last = GaugeMetricFamily(
        "lk3_channel_last_contact_timestamp_seconds",
        "When the channel's service last answered a poll or posted a webhook (Unix time;"
        " the process start until it has).",
        labels=["channel", "polls"],
    )
    failing = GaugeMetricFamily(
        "lk3_channel_failing_seconds",
        "How long calls to the channel's service have been failing (0 while they succeed).",
        labels=["channel"],
    )
    for name, pulse in sorted(sources.pulses.items()):
        seen = pulse.last_ok if pulse.last_ok is not None else pulse.started_at
        last.add_metric([name, "true" if pulse.polls else "false"], seen)
        failing.add_metric([name], pulse.failing_for())
    return [last, failing]
