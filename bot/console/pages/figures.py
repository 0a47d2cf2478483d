"""Figures (supervisors and admins): the month's counts for the office and the Dinas Sosial.

Counts only, read from plain columns; nothing is decrypted and no case is
named. A count from 1 to 4 is shown as "<5" (and draws no bar), so a small
number cannot point at one family. Families' satisfaction (the feedback flow's
1-5, `storage.flowhost.ratings`) follows the same rule, and with fewer than 5 ratings in
the month shows neither its spread nor its mean: only "<5 ratings".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, time

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.case_desk import label
from bot.console.charts import Bar, bar_chart
from bot.console.core import Console, PageRoute
from bot.console.scope import office_config, office_of
from bot.digits import digits
from storage.console.office import MonthCounts
from storage.flowhost.ratings import RATINGS, RatingCounts
from storage.handoff.records import HandoffFigures

__all__ = [
    "SMALL",
    "Chart",
    "Satisfaction",
    "chart",
    "csv_rows",
    "minutes",
    "routes",
    "satisfaction",
    "shown",
]

SMALL = 5
URGENCIES = ("darurat", "segera", "biasa")


def shown(count: int) -> str:
    """What a page may print for a count: "<5" for 1-4."""
    return "<5" if 0 < count < SMALL else str(count)


@dataclass(frozen=True, slots=True)
class Chart:
    """One table of counts and the bar chart beside it, both under the small-count rule."""

    chart_id: str
    title: str
    rows: tuple[tuple[str, str], ...]  # (label, count as shown)
    svg: Markup


def chart(chart_id: str, title: str, rows: list[tuple[str, int]]) -> Chart:
    """Counts as the page shows them: "<5" for 1-4, and no bar for those."""
    drawn = [Bar(label, shown(n), n if n >= SMALL else 0) for label, n in rows]
    return Chart(
        chart_id,
        title,
        tuple((label, shown(n)) for label, n in rows),
        bar_chart(chart_id, title, drawn) if rows else Markup(""),
    )


def minutes(seconds: float | None, answered: int) -> float | None:
    """A reply time in minutes, or None when too few replies to show it without singling out."""
    return None if seconds is None or answered < SMALL else round(seconds / 60, 1)


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The month's ratings as the page may show them."""

    count: str  # "<5" for 1-4
    hidden: bool  # 1-4 ratings: no spread, no mean
    by_value: tuple[tuple[int, str], ...]  # (rating, shown count), empty when hidden
    mean: str | None  # "4.2", None when hidden or none
    share_helpful: str | None  # percent rated 4 or 5, "71"


def satisfaction(ratings: RatingCounts) -> Satisfaction:
    """Applies the small-count rule to the month's ratings: too few show only "<5"."""
    total = ratings.total
    hidden = 0 < total < SMALL
    mean, share = ratings.mean, ratings.share_helpful
    # With the exact total, a mean or a share would give away the counts shown as
    # "<5" (5 ratings, mean 4.8: four 5s and a 4). They are shown only when every
    # rating given was given at least SMALL times.
    exact = all(n == 0 or n >= SMALL for _, n in ratings.by_rating)
    return Satisfaction(
        count=shown(total),
        hidden=hidden,
        by_value=() if hidden else tuple((r, shown(n)) for r, n in ratings.by_rating),
        mean=None if hidden or not exact or mean is None else f"{mean:.1f}",
        share_helpful=None if hidden or not exact or share is None else str(round(share * 100)),
    )


def csv_rows(
    counts: MonthCounts, handoff: HandoffFigures, ratings: RatingCounts | None = None
) -> list[tuple[str, str, str]]:
    """The month's figures as (section, item, value), items as stable codes: each count
    as the page shows it ("<5" for 1-4, never the number), the same rows as its tables."""
    urgency_rows = dict(counts.by_urgency)
    rows = [("contacts", "first_contacts", shown(counts.contacts))]
    rows += [("cases_by_urgency", u, shown(urgency_rows.get(u, 0))) for u in URGENCIES]
    rows += [("cases_by_category", c, shown(n)) for c, n in counts.by_category]
    late = f"waited_past_{handoff.target_seconds // 60}_minutes"
    for f in handoff.by_urgency:
        median = minutes(f.median_first_reply_seconds, f.answered)
        p90 = minutes(f.p90_first_reply_seconds, f.answered)
        rows += [
            ("handoff_opened", f.urgency, shown(f.opened)),
            ("handoff_answered", f.urgency, shown(f.answered)),
            ("first_reply_median_minutes", f.urgency, "" if median is None else str(median)),
            ("first_reply_p90_minutes", f.urgency, "" if p90 is None else str(p90)),
            (late, f.urgency, shown(f.waited_past_target)),
        ]
    rows += [("bookings", s, shown(n)) for s, n in counts.bookings]
    if ratings is not None:
        rated = satisfaction(ratings)
        by_value = dict(rated.by_value)
        rows.append(("ratings", "count", rated.count))
        rows += [("ratings_by_value", str(r), by_value.get(r, "")) for r in RATINGS]
        rows.append(("ratings", "mean", rated.mean or ""))
        rows.append(("ratings", "share_4_5_percent", rated.share_helpful or ""))
    return rows


def month_of(raw: str) -> tuple[int, int] | None:
    parts = raw.split("-")
    if len(parts) != 2 or not all(digits(p) for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if 2000 <= year <= 2999 and 1 <= month <= 12 else None


async def load(
    console: Console,
    request: Request,
    office_id: int,
) -> tuple[int, int, str, MonthCounts, HandoffFigures, RatingCounts]:
    tz = (await office_config(console, office_id)).office.tz  # the office's own months
    now = console.clock().astimezone(tz)
    asked = request.query_params.get("month", "")
    picked = month_of(asked)
    error = console.t(request, "figures_bad_month") if asked and picked is None else ""
    year, month = picked or (now.year, now.month)
    since = datetime.combine(datetime(year, month, 1).date(), time(0), tzinfo=tz)
    after = (year + month // 12, month % 12 + 1)
    until = datetime.combine(datetime(after[0], after[1], 1).date(), time(0), tzinfo=tz)
    counts = await console.store.office.month(since, until, office_id=office_id)
    handoff = await console.office.handoff.figures(since, until, office_id=office_id)
    ratings = await console.store.ratings.month(f"{year:04d}-{month:02d}", office_id=office_id)
    return year, month, error, counts, handoff, ratings


async def download(console: Console, request: Request, access: Access) -> Response:
    year, month, error, counts, handoff, ratings = await load(console, request, office_of(access))
    if error:
        return console.error(request, access, 400, "figures_bad_month")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("month", "section", "item", "value"))
    for row in csv_rows(counts, handoff, ratings):
        writer.writerow((f"{year:04d}-{month:02d}", *row))
    name = f"lk3-figures-{year:04d}-{month:02d}.csv"
    await console.audit(
        access, "figures_export", f"month:{year:04d}-{month:02d}", "monthly figures as CSV"
    )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def figures(console: Console, request: Request, access: Access) -> Response:
    year, month, error, counts, handoff, ratings = await load(console, request, office_of(access))
    lang = console.lang(request)
    t = console.t
    urgency_rows = dict(counts.by_urgency)
    by_urgency = [(t(request, "urgency_" + u), urgency_rows.get(u, 0)) for u in URGENCIES]
    by_category = [
        (label(console.texts, "case_category", code, lang), n) for code, n in counts.by_category
    ]
    replies = [
        (
            t(request, "urgency_" + f.urgency),
            shown(f.opened),
            shown(f.answered),
            minutes(f.median_first_reply_seconds, f.answered),
            minutes(f.p90_first_reply_seconds, f.answered),
            shown(f.waited_past_target),
        )
        for f in handoff.by_urgency
    ]
    # The median drawn only where the table shows it (five answers or more).
    medians = [
        Bar(
            name,
            "–" if median is None else t(request, "figures_minutes", value=median),
            median or 0,
        )
        for name, _, _, median, _, _ in replies
    ]
    bookings = [(t(request, "status_" + s), n) for s, n in counts.bookings]
    rated = satisfaction(ratings)
    by_value = dict(ratings.by_rating)
    rating_rows = [(t(request, f"figures_rating_{r}"), by_value[r]) for r, _ in rated.by_value]
    return console.render(
        request,
        access,
        "figures.html",
        month=f"{year:04d}-{month:02d}",
        contacts=shown(counts.contacts),
        charts=[
            chart("chart-urgency", t(request, "figures_by_urgency"), by_urgency),
            chart("chart-category", t(request, "figures_by_category"), by_category),
            chart("chart-bookings", t(request, "figures_bookings"), bookings),
        ],
        replies=replies,
        reply_chart=bar_chart("chart-replies", t(request, "figures_reply_chart"), medians)
        if any(bar.value for bar in medians)
        else "",
        target_minutes=handoff.target_seconds // 60,
        ratings=rated,
        rating_chart=chart("chart-ratings", t(request, "figures_ratings_by_value"), rating_rows)
        if ratings.total and rating_rows
        else None,
        error=error,
    )


routes = [
    PageRoute("/figures", figures, Need.OFFICE),
    PageRoute("/figures.csv", download, Need.OFFICE),
]
