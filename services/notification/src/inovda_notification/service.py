"""What each event means for email: keep the contacts and facts, decide the emails, record them."""

import asyncio
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
    EmailMessage,
    Renderer,
    UnitContact,
    emails_nobody,
    predicate_change_emails,
    predicate_changed,
    receipt_emails,
    region_schedule,
    rejection_emails,
    rejection_recipient,
    review_emails,
    score_emails,
)
from .domain.schedule import ReminderSchedule

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
        schedules: Mapping[str, ReminderSchedule] | None = None,
    ) -> None:
        self._schedules = schedules or {}  # each region-year's deadline, for the review emails
        self._store = store
        self._delivery = delivery
        self._renderer = renderer
        self._clock = clock
        self._sending: set[asyncio.Task[None]] = set()

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
            await self._send(rejection_emails(answer, unit, self._renderer), correlation_id)
            return
        if answer.intake_routing_key != INNOVATION_REPORT or answer.unchanged:
            return
        if answer.region_code is None or answer.unit_code is None:
            return
        if answer.revision == 1:
            await self._store.record_receipt(
                f"{answer.source}/{answer.key.get('external_id')}",
                answer.region_code,
                int(answer.key.get("year", 0)) or self._clock().year,
                answer.title or "",
                answer.received_at,
            )
        unit = await self._known_unit(answer.region_code, answer.unit_code)
        await self._send(receipt_emails(answer, unit, self._renderer), correlation_id)

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
        """A new revision's score email; a review round's email when the score reports one (its revision's
        score email went out when it was first scored)."""
        unit = await self._known_unit(event.region_code, event.unit_code)
        if event.reviewed_round:
            deadline = region_schedule(self._schedules, event.region_code, event.year).deadline
            await self._send(review_emails(event, unit, deadline, self._renderer), correlation_id)
            return
        await self._send(score_emails(event, unit, self._renderer), correlation_id)

    async def on_compliance(self, event: UnitComplianceUpdated) -> None:
        await self._store.save_versioned(
            "compliance",
            f"{event.region_code}/{event.year}/{event.unit_code}",
            event.version,
            event.model_dump(mode="json"),
        )

    async def on_index(self, event: RegionIndexUpdated, correlation_id: str) -> None:
        await self._store.record_index(event.region_code, event.year, event.version, event.iid, self._clock())
        if not predicate_changed(event):
            return
        region = await self._store.region(event.region_code, event.year)
        if region is None:
            raise ContactNotYetKnown(f"no innovation office known for region {event.region_code}/{event.year}")
        compliant = await self._store.compliant_units(event.region_code, event.year)
        missing = [
            unit
            for unit in await self._store.units_of(event.region_code)
            if unit.active and unit.unit_code not in compliant
        ]
        await self._send(predicate_change_emails(event, region, missing, self._renderer), correlation_id)

    async def _known_unit(self, region_code: str, unit_code: str) -> UnitContact:
        unit = await self._store.unit(region_code, unit_code)
        if unit is None:
            raise ContactNotYetKnown(f"unit {region_code}/{unit_code} is not registered here yet")
        return unit

    async def resend(self, dedupe_key: str) -> None:
        await self._delivery.resend(dedupe_key)

    async def _send(self, messages: list[EmailMessage], correlation_id: str) -> None:
        """Record before the event is acknowledged; send right away in the background (the loop retries)."""
        for key in await self._delivery.record(messages, correlation_id):
            task = asyncio.create_task(self._delivery.deliver(key))
            self._sending.add(task)
            task.add_done_callback(self._sent)

    async def drain(self) -> None:
        """On shutdown: let the sends already under way finish rather than cut them off mid-conversation."""
        if self._sending:
            await asyncio.wait(self._sending, timeout=20)

    def _sent(self, task: "asyncio.Task[None]") -> None:
        self._sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Not lost: the email stays pending and the delivery loop tries it again.
            log.warning("sending right away failed: %s: %s", type(error).__name__, error)
