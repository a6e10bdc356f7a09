"""Scheduled emails: reminders before each region's deadline, and the weekly digest; and, once an hour, the
dropping of what is no longer needed (held documents past the digest's week, replaced compliance counts).

Every replica runs the schedule; each email still goes out once, because it is recorded under its
dedupe key (unit, year and stage; region and ISO week) before anything is sent. A pass asks the database
only what may have changed: no reminder stage has come, a unit already reminded at the latest stage (as far
as this replica knows), a digest already recorded: nothing read. The clock is injected, so tests move time
instead of sleeping.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from inovda_shared.retry import supervised

from .adapters.store import NotificationStore
from .delivery import Delivery
from .domain import (
    RegionContact,
    ReminderSchedule,
    Renderer,
    WeeklyDigest,
    compliance_by_kind,
    digest_key,
    region_schedule,
    reminder_emails,
    reminders_due,
    weekly_digest_emails,
)

Clock = Callable[[], dt.datetime]
WEEK = dt.timedelta(days=7)
# Held documents are kept this long: the digest reads the week's new innovations and index trend there.
HELD_KEPT = dt.timedelta(days=8)
HOUSEKEEPING_EVERY = dt.timedelta(hours=1)


class Scheduler:
    def __init__(
        self,
        store: NotificationStore,
        delivery: Delivery,
        renderer: Renderer,
        schedules: Mapping[str, ReminderSchedule],
        timezone: ZoneInfo,
        digest_weekday: int = 0,
    ) -> None:
        self._store = store
        self._delivery = delivery
        self._renderer = renderer
        self._schedules = schedules  # by "region_code/year"; the default rule elsewhere
        self._timezone = timezone
        self._digest_weekday = digest_weekday
        self._reminded: dict[tuple[str, int, str], str] = {}  # the last stage this replica knows a unit was sent
        self._housekept_at: dt.datetime | None = None

    async def tick(self, now: dt.datetime) -> list[str]:
        """Record what is due at `now` and try to send it; returns the dedupe keys recorded now."""
        today = now.astimezone(self._timezone).date()
        recorded = []
        for region in await self._store.all_regions():
            if region.year != today.year:
                continue  # reminders run in the assessment year itself
            recorded += await self._reminders(region, today)
            if today.weekday() == self._digest_weekday:
                recorded += await self._digest(region, today, now)
        for key in recorded:
            await self._delivery.deliver(key)
        if self._housekept_at is None or now - self._housekept_at >= HOUSEKEEPING_EVERY:
            await self._store.prune_held(now - HELD_KEPT)
            await self._store.prune_compliance()
            self._housekept_at = now
        return recorded

    async def run(self, clock: Clock, interval_seconds: float) -> None:
        """Tick until cancelled; a failed tick (an outage) is caught up by the next one."""

        async def tick_now() -> None:
            await self.tick(clock())

        await supervised("schedule", tick_now, interval_seconds)

    def schedule_for(self, region: RegionContact) -> ReminderSchedule:
        return region_schedule(self._schedules, region.region_code, region.year)

    async def _reminders(self, region: RegionContact, today: dt.date) -> list[str]:
        schedule = self.schedule_for(region)
        if reminders_due(schedule, region.year, today, None) is None:
            return []  # no stage has come (or the deadline has passed): nobody to remind
        compliant = await self._store.compliant_units(region.region_code, region.year)
        recorded = []
        for unit in await self._store.units_of(region.region_code):
            if not unit.active or unit.unit_code in compliant:
                continue
            where = (region.region_code, region.year, unit.unit_code)
            known = self._reminded.get(where)
            if known is not None and reminders_due(schedule, region.year, today, known) is None:
                continue  # stages only move on: not due after the one this replica knows, not due after a later one
            # One replica at a time decides a unit's stage; the dedupe key alone would already stop a
            # second copy, the lock also keeps the unit's last-stage record consistent.
            async with self._store.locks.hold(f"reminder:{region.region_code}/{region.year}/{unit.unit_code}"):
                last = await self._store.last_reminder_stage(region.region_code, region.year, unit.unit_code)
                if last is not None:
                    self._reminded[where] = last
                stage = reminders_due(schedule, region.year, today, last)
                if stage is None:
                    continue
                messages = reminder_emails(
                    unit, region, schedule, stage, has_complied=False, today=today, renderer=self._renderer
                )
                recorded += await self._delivery.record(messages, f"reminder:{region.region_code}/{region.year}")
                await self._store.set_reminder_stage(region.region_code, region.year, unit.unit_code, stage.id)
                self._reminded[where] = stage.id
        return recorded

    async def _digest(self, region: RegionContact, today: dt.date, now: dt.datetime) -> list[str]:
        if await self._store.email(digest_key(region.region_code, today)) is not None:
            return []  # this week's is recorded already
        since = now - WEEK
        units = await self._store.units_of(region.region_code)
        compliant = await self._store.compliant_units(region.region_code, region.year)
        digest = WeeklyDigest(
            region_code=region.region_code,
            year=region.year,
            week_of=today,
            compliance=compliance_by_kind(units, compliant),
            new_innovation_titles=await self._store.new_innovation_titles(region.region_code, region.year, since),
            index_trend=await self._store.index_trend(region.region_code, region.year, since),
        )
        messages = weekly_digest_emails(digest, region, self._renderer)
        return await self._delivery.record(messages, f"digest:{region.region_code}/{region.year}")
