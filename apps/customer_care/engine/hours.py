"""Business-hours arithmetic: when does a clock of N working minutes started at T run out?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class BusinessHours:
    """Working hours ``opens``–``closes`` (local time) on ``weekdays`` (0 = Monday).

    ``round_the_clock`` (24-hour mode) makes every minute a working minute.
    """

    opens: time
    closes: time
    weekdays: frozenset[int]
    tz: tzinfo
    round_the_clock: bool = False

    @classmethod
    def of(
        cls,
        *,
        opens: time,
        closes: time,
        weekdays: Iterable[int],
        tz: tzinfo,
        round_the_clock: bool = False,
    ) -> BusinessHours:
        days = frozenset(int(d) for d in weekdays if 0 <= int(d) <= 6)
        # No working day or an empty day would never end a clock: count every minute then.
        always = round_the_clock or not days or closes <= opens
        return cls(opens, closes, days, tz, always)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.weekday() not in self.weekdays:
            return None
        return (
            datetime.combine(day, self.opens, tzinfo=self.tz),
            datetime.combine(day, self.closes, tzinfo=self.tz),
        )

    def add(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` working minutes after ``start`` (an aware datetime)."""
        if self.round_the_clock:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(3700):  # ten years of days: a target never runs that long
            window = self._window(day)
            if window is not None:
                opens, closes = window
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(start.tzinfo)
                    remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ValueError("a response target longer than ten years")

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes from ``start`` to ``end`` (0 when end is not after start)."""
        if end <= start:
            return 0
        if self.round_the_clock:
            return int((end - start).total_seconds() // 60)
        total = timedelta()
        local, stop = start.astimezone(self.tz), end.astimezone(self.tz)
        day = local.date()
        while day <= stop.date():
            window = self._window(day)
            if window is not None:
                begin, finish = max(local, window[0]), min(stop, window[1])
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)
