"""deploy/alerts.yml: valid rules, and every metric a rule names is served by /metrics
(with `promtool check rules` too where Debian's prometheus package is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from bot_support import ROOT, Bot
from monitoring_support import families

from bot.monitoring.endpoints import Monitoring
from bot.monitoring.sources import Sources
from bot.web import WebServer

RULES = ROOT / "deploy" / "alerts.yml"
# Names in an expression that are not metrics: functions, keywords, Prometheus' own.
NOT_METRICS = {"time", "sum", "by", "increase", "rate", "up", "humanizeDuration"}


def rules() -> list[dict[str, object]]:
    loaded = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def named_metrics(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", without_ranges))
    return {w for w in words if w not in NOT_METRICS and not w.startswith(("channel", "reason"))}


def test_every_rule_has_a_name_an_expression_and_a_summary() -> None:
    found = rules()
    assert len(found) >= 10
    for rule in found:
        assert rule["alert"] and rule["expr"]
        assert isinstance(rule["annotations"], dict) and rule["annotations"]["summary"]


async def test_every_metric_a_rule_names_is_served_by_metrics(bot: Bot, tmp_path: Path) -> None:
    app = bot.app
    sources = Sources(
        config=app.config,
        store=app.store,
        writes=app.health,
        tally=app.pipeline.tally,
        pulses={},
        channels=("test",),
        clock=app.sender._clock,
    )
    web = WebServer("127.0.0.1", 0)
    monitoring = Monitoring(sources)
    web.add_route("/metrics", monitoring.metrics, methods=["GET"])
    transport = httpx.ASGITransport(app=web.app(), client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    served = families(answer.text)
    named = set().union(*(named_metrics(str(rule["expr"])) for rule in rules()))
    assert "lk3_outbox_due" in named and "lk3_send_failures_total" in named
    assert named - served == set(), "rules name metrics /metrics does not serve"


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
