"""The reminder schedule as data, and which stage is due on a day."""

import datetime as dt

import pytest

from inovda_notification.domain import FINAL_STAGE_ID, ReminderSchedule, ReminderStage, reminders_due

D = dt.date
DEFAULT_2026 = ReminderSchedule.default(2026)


def test_default_dates_are_1_july_1_september_then_weekly_in_the_last_month() -> None:
    assert DEFAULT_2026.deadline == D(2026, 10, 31)
    assert DEFAULT_2026.reminder_dates() == [
        D(2026, 7, 1),
        D(2026, 9, 1),
        D(2026, 10, 1),  # the fixed 1 October and the first weekly reminder: one stage, sent once
        D(2026, 10, 8),
        D(2026, 10, 15),
        D(2026, 10, 22),
        D(2026, 10, 29),
    ]


def test_stage_ids_are_the_dates_and_the_last_is_final() -> None:
    stages = DEFAULT_2026.stages()
    assert [stage.id for stage in stages] == [
        "2026-07-01",
        "2026-09-01",
        "2026-10-01",
        "2026-10-08",
        "2026-10-15",
        "2026-10-22",
        FINAL_STAGE_ID,
    ]
    assert [stage.final for stage in stages] == [False] * 6 + [True]
    assert stages[-1] == ReminderStage(id="final", on=D(2026, 10, 29), final=True)


def test_a_stage_is_due_on_its_day() -> None:
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 7, 1), None) == ReminderStage("2026-07-01", D(2026, 7, 1), False)
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 10, 29), "2026-10-22") == ReminderStage(
        "final", D(2026, 10, 29), True
    )


def test_nothing_is_due_before_the_first_date() -> None:
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 6, 30), None) is None


def test_a_stage_already_sent_is_not_due_again() -> None:
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 7, 1), "2026-07-01") is None
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 8, 15), "2026-07-01") is None


def test_a_missed_stage_is_sent_once_when_the_service_is_back() -> None:
    # Down from 30 June to 10 July: the 1 July stage is sent on 10 July, and not again after that.
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 7, 10), None) == ReminderStage("2026-07-01", D(2026, 7, 1), False)
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 7, 11), "2026-07-01") is None


def test_a_superseded_stage_is_not_sent_late() -> None:
    # Down over 1 July and 1 September: only the 1 September stage goes out.
    due = reminders_due(DEFAULT_2026, 2026, D(2026, 9, 3), None)
    assert due == ReminderStage("2026-09-01", D(2026, 9, 1), False)


def test_a_missed_final_stage_is_still_sent_before_the_deadline_but_nothing_after_it() -> None:
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 10, 31), "2026-10-15") == ReminderStage(
        "final", D(2026, 10, 29), True
    )
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 11, 1), "2026-10-15") is None


def test_nothing_is_due_after_the_final_stage() -> None:
    assert reminders_due(DEFAULT_2026, 2026, D(2026, 10, 30), FINAL_STAGE_ID) is None


def test_every_stage_is_sent_exactly_once_by_a_daily_run_even_with_an_outage() -> None:
    outage = {D(2026, 6, 28) + dt.timedelta(days=offset) for offset in range(10)}  # over 1 July
    outage |= {D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 16)}  # over 15 October
    sent: list[tuple[dt.date, str]] = []
    last: str | None = None
    day = D(2026, 6, 1)
    while day <= D(2026, 12, 31):
        if day not in outage and (stage := reminders_due(DEFAULT_2026, 2026, day, last)) is not None:
            sent.append((day, stage.id))
            last = stage.id
        day += dt.timedelta(days=1)
    assert sent == [
        (D(2026, 7, 8), "2026-07-01"),
        (D(2026, 9, 1), "2026-09-01"),
        (D(2026, 10, 1), "2026-10-01"),
        (D(2026, 10, 8), "2026-10-08"),
        (D(2026, 10, 17), "2026-10-15"),
        (D(2026, 10, 22), "2026-10-22"),
        (D(2026, 10, 29), FINAL_STAGE_ID),
    ]


def test_a_region_may_set_its_own_dates() -> None:
    schedule = ReminderSchedule(deadline=D(2026, 9, 30), dates=(D(2026, 8, 1), D(2026, 6, 1), D(2026, 9, 23)))
    assert [(stage.id, stage.on) for stage in schedule.stages()] == [
        ("2026-06-01", D(2026, 6, 1)),
        ("2026-08-01", D(2026, 8, 1)),
        (FINAL_STAGE_ID, D(2026, 9, 23)),
    ]
    assert reminders_due(schedule, 2026, D(2026, 8, 2), "2026-06-01") == ReminderStage(
        "2026-08-01", D(2026, 8, 1), False
    )


def test_a_region_may_move_only_its_deadline_and_keep_the_default_rule() -> None:
    schedule = ReminderSchedule(deadline=D(2026, 9, 15))
    # Weekly from 16 August; 1 September falls inside that month and gives way to the weekly dates.
    assert schedule.reminder_dates() == [
        D(2026, 7, 1),
        D(2026, 8, 16),
        D(2026, 8, 23),
        D(2026, 8, 30),
        D(2026, 9, 6),
        D(2026, 9, 13),
    ]


def test_a_changed_schedule_continues_after_the_last_stage_sent() -> None:
    changed = ReminderSchedule(deadline=D(2026, 10, 31), dates=(D(2026, 8, 15), D(2026, 10, 20)))
    # 2026-09-01 was sent under the old schedule; the new 15 August date is already behind it.
    assert reminders_due(changed, 2026, D(2026, 9, 10), "2026-09-01") is None
    assert reminders_due(changed, 2026, D(2026, 10, 20), "2026-09-01") == ReminderStage(
        FINAL_STAGE_ID, D(2026, 10, 20), True
    )


def test_a_custom_schedule_needs_dates_on_or_before_the_deadline() -> None:
    with pytest.raises(ValueError, match="after the deadline"):
        ReminderSchedule(deadline=D(2026, 9, 30), dates=(D(2026, 10, 1),))
    with pytest.raises(ValueError, match="at least one date"):
        ReminderSchedule(deadline=D(2026, 9, 30), dates=())


def test_a_schedule_of_another_year_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of 2027"):
        reminders_due(DEFAULT_2026, 2027, D(2027, 7, 1), None)
