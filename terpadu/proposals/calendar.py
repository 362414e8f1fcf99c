"""The monthly calendar (domain.md §3.5): desa input until day 20, kab/kota ratification by
the 25th, then national processing. Pusat sets the days per year (CalendarYear)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from terpadu.proposals.models import CalendarYear

DEFAULT_INPUT_END_DAY = 20
DEFAULT_RATIFICATION_DAY = 25


@dataclass(frozen=True)
class MonthDeadlines:
    period: str  # YYYY-MM
    input_end: dt.date
    ratification: dt.date

    def phase(self, today: dt.date) -> str:
        """'input', 'pengesahan' or 'pusat' — where the month stands on `today`."""
        if today <= self.input_end:
            return "input"
        if today <= self.ratification:
            return "pengesahan"
        return "pusat"


def period_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def today() -> dt.date:
    return timezone.localdate()


def deadlines(period: str | None = None) -> MonthDeadlines:
    """Deadlines of `period` (default: the current month), from that year's calendar."""
    period = period or period_of(today())
    year, month = (int(part) for part in period.split("-"))
    row = CalendarYear.objects.filter(year=year).first()
    input_end = row.input_end_day if row else DEFAULT_INPUT_END_DAY
    ratification = row.ratification_day if row else DEFAULT_RATIFICATION_DAY
    return MonthDeadlines(
        period=period,
        input_end=dt.date(year, month, input_end),
        ratification=dt.date(year, month, ratification),
    )
