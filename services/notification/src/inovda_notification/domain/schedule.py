"""When units that have not reported an innovation yet are reminded: the schedule as data, and what is due.

A schedule is a list of dates up to the region's deadline; each date is a *stage* of the campaign, and the
last one is the *final* stage (it also copies the innovation office). Stage ids are stable ("2026-07-01",
or "final" for the last), so "unit + year + stage" is the dedupe key of a reminder.

Catching up: the caller remembers, per unit and year, the last stage it sent. `reminders_due` then returns
only the most recent stage that has come: a service that was down on a reminder date sends that stage once
when it is back, and a stage that a later one has already superseded is never sent late. Nothing is due
after the deadline: a reminder then would only ask for the impossible. Once the final stage is sent,
nothing more is sent that year, even if the region later moves its deadline.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

FINAL_STAGE_ID = "final"
DEFAULT_DEADLINE_MONTH_DAY = (10, 31)
DEFAULT_FIXED_MONTH_DAYS = ((7, 1), (9, 1), (10, 1))
# "The last month before the deadline": weekly reminders start this long before it. For 31 October that is
# 1 October, so the fixed 1 October date and the first weekly one are the same stage, sent once.
WEEKLY_WINDOW = dt.timedelta(days=30)
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class ReminderStage:
    id: str
    on: dt.date
    final: bool


@dataclass(frozen=True)
class ReminderSchedule:
    """A region's reminder dates for one year. `dates=None` applies the default rule to the deadline.

    Default rule: 1 July, 1 September and 1 October of the deadline's year, then weekly from 30 days before
    the deadline (a fixed date inside those last 30 days gives way to the weekly ones); dates after the
    deadline are dropped. For the default deadline, 31 October: 1 Jul, 1 Sep, 1 Oct, 8 Oct, 15 Oct,
    22 Oct, 29 Oct (final).
    """

    deadline: dt.date
    dates: tuple[dt.date, ...] | None = None

    def __post_init__(self) -> None:
        if self.dates is None:
            return
        if not self.dates:
            raise ValueError("a custom reminder schedule needs at least one date")
        late = sorted(day for day in self.dates if day > self.deadline)
        if late:
            raise ValueError(f"reminder dates {[day.isoformat() for day in late]} fall after the deadline")

    @classmethod
    def default(cls, year: int) -> "ReminderSchedule":
        return cls(deadline=dt.date(year, *DEFAULT_DEADLINE_MONTH_DAY))

    def reminder_dates(self) -> list[dt.date]:
        dates = self.dates if self.dates is not None else _default_dates(self.deadline)
        return sorted(set(dates))

    def stages(self) -> list[ReminderStage]:
        dates = self.reminder_dates()
        last = len(dates) - 1
        return [
            ReminderStage(id=FINAL_STAGE_ID if index == last else day.isoformat(), on=day, final=index == last)
            for index, day in enumerate(dates)
        ]


def reminders_due(
    schedule: ReminderSchedule, year: int, today: dt.date, last_sent_stage: str | None
) -> ReminderStage | None:
    """The stage to send a unit today, if any (see the module docstring for why at most one).

    `last_sent_stage` is the id of the last stage sent to the unit for `year` (None: none yet). It may
    name a date the schedule no longer has (the region changed it): stages after that date still count.
    """
    if schedule.deadline.year != year:
        raise ValueError(f"the schedule with deadline {schedule.deadline.isoformat()} is not one of {year}")
    if today > schedule.deadline or last_sent_stage == FINAL_STAGE_ID:
        return None
    come = [stage for stage in schedule.stages() if stage.on <= today]
    if not come:
        return None
    latest = come[-1]
    if last_sent_stage is not None and latest.on <= dt.date.fromisoformat(last_sent_stage):
        return None
    return latest


def _default_dates(deadline: dt.date) -> list[dt.date]:
    weekly_from = deadline - WEEKLY_WINDOW
    fixed = [dt.date(deadline.year, month, day) for month, day in DEFAULT_FIXED_MONTH_DAYS]
    weekly = []
    day = weekly_from
    while day <= deadline:
        weekly.append(day)
        day += WEEK
    return [day for day in fixed if day < weekly_from] + weekly


def region_schedule(schedules: Mapping[str, ReminderSchedule], region_code: str, year: int) -> ReminderSchedule:
    """The region-year's own schedule (by "region_code/year"), or the default rule."""
    return schedules.get(f"{region_code}/{year}") or ReminderSchedule.default(year)
