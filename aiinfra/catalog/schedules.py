"""Azure ML compute instance start/stop schedules: the cron subset aiinfra accepts, and the hours a schedule runs.

One parser for the component (which validates config) and the cost estimate (which reads any program's compute
instances). Azure ML takes a five-field cron expression (minute hour day-of-month month day-of-week) with a time zone
(Microsoft Learn, "Create an Azure Machine Learning compute instance": schedule with a cron expression;
REST `ComputeStartStopSchedule.cron`). aiinfra accepts the daily/weekly subset a workstation schedule needs: one
minute, one hour, `*` for day of month and month, and days of week as `*`, numbers 0-6 (0 or 7 = Sunday), ranges
and lists.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730
WEEKS_PER_MONTH = HOURS_PER_MONTH / (7 * 24)
_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


class CronError(ValueError):
    """A cron expression outside the subset aiinfra accepts."""


@dataclass(frozen=True)
class WeeklyCron:
    minute: int
    hour: int
    days: frozenset[int]
    """Days of week, 0 = Sunday."""

    def minutes_of_week(self) -> list[int]:
        return sorted(day * 1440 + self.hour * 60 + self.minute for day in self.days)


def _day(token: str, expression: str) -> int:
    token = token.strip().lower()
    if token in _DAY_NAMES:
        return _DAY_NAMES[token]
    if not token.isdigit() or int(token) > 7:
        raise CronError(f"'{expression}': day of week '{token}' is not 0-7 or a day name (mon..sun)")
    return int(token) % 7


def parse_cron(expression: str) -> WeeklyCron:
    """`'0 18 * * 1-5'` -> 18:00 Monday to Friday. Raises CronError naming what is outside the accepted subset."""
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(
            f"'{expression}': a cron expression has five fields (minute hour day month day-of-week), "
            "e.g. '0 18 * * 1-5'"
        )
    minute, hour, day_of_month, month, weekdays = fields
    if not minute.isdigit() or int(minute) > 59:
        raise CronError(f"'{expression}': minute must be one number 0-59")
    if not hour.isdigit() or int(hour) > 23:
        raise CronError(f"'{expression}': hour must be one number 0-23 (one schedule per start or stop time)")
    if day_of_month != "*" or month != "*":
        raise CronError(f"'{expression}': day of month and month must be '*' (daily or weekly schedules only)")
    days: set[int] = set()
    for part in ("0-6" if weekdays == "*" else weekdays).split(","):
        if "-" in part:
            low, high = (_day(p, expression) for p in part.split("-", 1))
            if part.split("-", 1)[1].strip() == "7":
                high = 7
            if high < low:
                raise CronError(f"'{expression}': day range '{part}' runs backwards")
            days.update(d % 7 for d in range(low, high + 1))
        else:
            days.add(_day(part, expression))
    return WeeklyCron(int(minute), int(hour), frozenset(days))


def weekly_running_minutes(starts: list[WeeklyCron], stops: list[WeeklyCron]) -> int:
    """Minutes a week between each start and the next stop, with the schedules repeating every week.

    With no start schedule the instance starts on demand; the caller decides what that means (None is not
    returned here: pass at least one start).
    """
    events = sorted(
        [(m, 1) for c in starts for m in c.minutes_of_week()] + [(m, 0) for c in stops for m in c.minutes_of_week()]
    )
    if not events:
        return 7 * 1440
    week = 7 * 1440
    # State at the start of the week is the state after the last event of the previous week.
    running = events[-1][1] == 1
    total, last = 0, 0
    for minute, starts_here in events:
        if running:
            total += minute - last
        running, last = bool(starts_here), minute
    if running:
        total += week - last
    return total


def monthly_running_hours(start_expressions: list[str], stop_expressions: list[str]) -> float:
    """Hours a month (730 h) a compute instance runs on its schedules, at most: idle shutdown can stop it sooner."""
    minutes = weekly_running_minutes(
        [parse_cron(e) for e in start_expressions], [parse_cron(e) for e in stop_expressions]
    )
    return round(minutes / 60 * WEEKS_PER_MONTH, 2)
