"""What each event means for email: keep the contacts and facts, decide the emails, and send them (a receipt or
a rejection at once, before the event is acknowledged) or hold them (a score email for its window; the
office's index email: `office`)."""

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from inovda_shared.contracts.events import (
    InnovationScored,
    IntakeAnswer,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)

from .adapters.store import NotificationStore
from .delivery import Delivery
from .domain import (
    Renderer,
    UnitContact,
    emails_nobody,
    receipt_emails,
    region_schedule,
    rejection_emails,
    rejection_recipient,
    review_emails,
    score_emails,
    score_key,
)
from .domain.schedule import ReminderSchedule
from .office import IndexEmails

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
INNOVATION_REPORT = "innovation.report.v1"


class ContactNotYetKnown(LookupError):  # noqa: N818 - named for the situation, which usually passes
    """An event names a unit or region whose registration has not reached this service yet.

    Events of one fact travel separately (a unit's registration and its first innovation's score), so
    the handler fails the attempt and the message is retried; if the contact never comes, it ends in
    the dead-letter queue with this reason.
    """


class NotificationService:
    def __init__(
        self,
        store: NotificationStore,
        delivery: Delivery,
        renderer: Renderer,
        clock: Clock,
        office: IndexEmails,
        score_email_window: dt.timedelta,
        schedules: Mapping[str, ReminderSchedule] | None = None,
    ) -> None:
        self._schedules = schedules or {}  # each region-year's deadline, for the review emails
        self._store = store
        self._delivery = delivery
        self._renderer = renderer
        self._clock = clock
        self._office = office
        self._score_email_window = score_email_window

    async def on_answer(self, answer: IntakeAnswer, correlation_id: str) -> None:
        if emails_nobody(answer):
            return
        if answer.status == "rejected":
            recipient = rejection_recipient(answer)
            if recipient is None:
                return
            # A unit registered when the message was answered will be known here: wait for it if need be.
            # One that was not (or that the rejection faults) may never be: then the email goes nowhere.
            unit_faulted = any(reason.field == "unit_code" for reason in answer.reasons)
            if unit_faulted or answer.unit_registered is False:
                unit = await self._store.unit(*recipient)
            else:
                unit = await self._known_unit(*recipient)
            await self._delivery.send_now(rejection_emails(answer, unit, self._renderer), correlation_id)
            return
        if answer.intake_routing_key != INNOVATION_REPORT or answer.unchanged:
            return
        if answer.region_code is None or answer.unit_code is None:
            return
        unit = await self._known_unit(answer.region_code, answer.unit_code)
        await self._delivery.send_now(receipt_emails(answer, unit, self._renderer), correlation_id)

    async def on_unit_registered(self, event: UnitRegistered) -> None:
        unit = event.unit
        await self._store.save_versioned(
            "units", f"{unit.region_code}/{unit.unit_code}", event.version, unit.model_dump(mode="json")
        )

    async def on_profile_updated(self, event: RegionProfileUpdated) -> None:
        profile = event.profile
        document = {"region_code": profile.region_code, "year": profile.year, "admin_emails": profile.admin_emails}
        await self._store.save_versioned("regions", f"{profile.region_code}/{profile.year}", event.version, document)

    async def on_scored(self, event: InnovationScored, correlation_id: str) -> None:
        """A review round's email at once (its revision's score email went out when it was first scored); a new
        revision's score email held for the window: a later revision scored meanwhile replaces it (one email,
        for the latest)."""
        unit = await self._known_unit(event.region_code, event.unit_code)
        if event.reviewed_round:
            deadline = region_schedule(self._schedules, event.region_code, event.year).deadline
            await self._delivery.send_now(review_emails(event, unit, deadline, self._renderer), correlation_id)
            return
        until = self._clock() + self._score_email_window
        facts = {"region_code": event.region_code, "year": event.year, "revision": event.revision, "title": event.title}
        newer = score_key(event.source, event.external_id, event.revision + 1)
        for message in score_emails(event, unit, self._renderer):
            await self._delivery.hold(message, correlation_id, until, superseded_by=newer, facts=facts)

    async def on_compliance(self, event: UnitComplianceUpdated) -> None:
        await self._store.record_compliance(event.model_dump(mode="json"))

    async def on_index(self, event: RegionIndexUpdated, correlation_id: str) -> None:
        """The office's index email: see `office`."""
        await self._office.on_index(event, correlation_id)

    async def _known_unit(self, region_code: str, unit_code: str) -> UnitContact:
        unit = await self._store.unit(region_code, unit_code)
        if unit is None:
            raise ContactNotYetKnown(f"unit {region_code}/{unit_code} is not registered here yet")
        return unit

    async def resend(self, dedupe_key: str) -> None:
        await self._delivery.resend(dedupe_key)
