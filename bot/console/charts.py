"""Bar charts drawn on the server as inline SVG: no script, no inline style (the console's
strict CSP holds), readable on a phone, and described in words for a screen reader.

A chart never shows more than its table beside it: a count hidden as "<5" draws no
bar and is written "<5" in the chart, its title and its description alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart"]

WIDTH = 360  # viewBox units; the SVG scales to its box, so text stays in proportion
ROW = 40  # one bar: its label above, the bar and its value below
BAR_TOP = 18
BAR_HEIGHT = 14
VALUE_ROOM = 56  # room right of the longest bar for its value


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str  # what is written: "12", "<5", "7,5 mnt"
    value: float  # what is drawn: 0 when the figure is hidden


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """A horizontal bar chart, one row per bar, longest bar = the largest value."""
    top = max((b.value for b in bars), default=0) or 1
    span = WIDTH - VALUE_ROOM
    height = ROW * len(bars) + 4
    described = "; ".join(f"{b.label}: {b.text}" for b in bars)
    parts = [
        f'<svg class="bar-chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}"'
        f' role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc"'
        ' focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(described)}</desc>',
    ]
    for row, bar in enumerate(bars):
        y = row * ROW
        length = round(span * bar.value / top, 1) if bar.value > 0 else 0
        parts.append(f'<text class="label" x="0" y="{y + 13}">{escape(bar.label)}</text>')
        parts.append(
            f'<rect class="track" x="0" y="{y + BAR_TOP}" width="{span}" height="{BAR_HEIGHT}"/>'
        )
        if length:
            parts.append(
                f'<rect class="bar" x="0" y="{y + BAR_TOP}" width="{length}"'
                f' height="{BAR_HEIGHT}"/>'
            )
        x = length + 6 if length else 6
        kind = "value" if length else "value suppressed"
        parts.append(
            f'<text class="{kind}" x="{x}" y="{y + BAR_TOP + BAR_HEIGHT - 2}">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
