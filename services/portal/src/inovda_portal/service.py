"""The portal's commands: keep the read model up to date from events (`Projection`), manage accounts
(`Accounts`), and send what a unit reports to the intake (`Reporting`)."""

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    NotificationFailed,
    NotificationSent,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import InnovationReport, InnovationVerification

from .adapters.intake import IntakePublisher
from .adapters.metrics import REPORTS, REVIEWS
from .adapters.passwords import Passwords
from .adapters.store import PortalStore
from .domain import projection
from .domain.access import Account, Role
from .domain.forms import ReportForm, report_body
from .domain.model import InnovationRecord, RegionYear, UnitEntry, innovation_key, region_year_key
from .domain.review import ReviewForm, review_body

Clock = Callable[[], dt.datetime]


class Projection:
    """Applies each event to the documents it changes, each under its lock, writing only what changed."""

    def __init__(self, store: PortalStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def on_unit_registered(self, event: UnitRegistered) -> None:
        region = event.unit.region_code
        async with self._store.locks.hold(f"directory:{region}"):
            if changed := projection.unit_registered(await self._store.directory(region), event):
                await self._store.save_directory(changed)

    async def on_profile_updated(self, event: RegionProfileUpdated) -> None:
        profile = event.profile
        await self._note_year(profile.region_code, profile.year)
        await self._change_region(
            profile.region_code, profile.year, lambda region: projection.profile_updated(region, event)
        )

    async def on_index_updated(self, event: RegionIndexUpdated) -> None:
        await self._note_year(event.region_code, event.year)
        at = self._clock()
        await self._change_region(
            event.region_code, event.year, lambda region: projection.index_updated(region, event, at)
        )

    async def on_compliance_updated(self, event: UnitComplianceUpdated) -> None:
        await self._change_region(
            event.region_code, event.year, lambda region: projection.compliance_updated(region, event)
        )

    # An innovation's record and its region-year are two documents, each changed under its own lock and from
    # the event alone: holding one lock while waiting for another would let it expire under a long queue.

    async def on_submitted(self, event: InnovationSubmitted) -> None:
        report = event.innovation
        await self._note_year(report.region_code, report.year)
        await self._change_record(
            report.source, report.external_id, lambda record: projection.record_submitted(record, event)
        )
        await self._change_region(
            report.region_code, report.year, lambda region: projection.region_submitted(region, event)
        )

    async def on_scored(self, event: InnovationScored) -> None:
        await self._change_record(
            event.source, event.external_id, lambda record: projection.record_scored(record, event)
        )
        await self._change_region(event.region_code, event.year, lambda region: projection.region_scored(region, event))

    async def on_verified(self, event: InnovationVerified) -> None:
        await self._change_record(
            event.source, event.external_id, lambda record: projection.record_verified(record, event)
        )

    async def on_answer(self, answer: IntakeAnswer) -> None:
        """An answer about an innovation (its report, or a review round of it) goes to its record (rejections
        included: the page shows why); any answer naming a unit and a year counts as the unit's activity."""
        external_id = answer.key.get("external_id")
        source: object = answer.source
        if answer.intake_routing_key == InnovationVerification.routing_key:
            source = answer.key.get("innovation_source")
        elif answer.intake_routing_key != InnovationReport.routing_key:
            source = None
        if isinstance(source, str) and isinstance(external_id, str):
            await self._change_record(
                source, external_id, lambda record: projection.innovation_answered(record, answer)
            )
        year = answer.key.get("year")
        if answer.region_code and answer.unit_code and isinstance(year, int) and answer.unit_registered:
            unit_code = answer.unit_code
            await self._change_region(
                answer.region_code,
                year,
                lambda region: projection.activity_reported(region, unit_code, answer.received_at),
            )

    async def on_email(self, event: NotificationSent | NotificationFailed) -> None:
        if event.region_code is None or event.unit_code is None:
            return  # an email to the innovation office, about the region as a whole
        async with self._store.locks.hold(f"activity:{event.region_code}/{event.unit_code}"):
            activity = await self._store.activity(event.region_code, event.unit_code)
            if changed := projection.email_outcome(activity, event):
                await self._store.save_activity(changed)

    async def _note_year(self, region_code: str, year: int) -> None:
        async with self._store.locks.hold(f"directory:{region_code}"):
            if changed := projection.with_year(await self._store.directory(region_code), year):
                await self._store.save_directory(changed)

    async def _change_record(
        self, source: str, external_id: str, change: Callable[[InnovationRecord], InnovationRecord | None]
    ) -> None:
        async with self._store.locks.hold(f"innovation:{innovation_key(source, external_id)}"):
            if changed := change(await self._store.innovation(source, external_id)):
                await self._store.save_innovation(changed)

    async def _change_region(
        self, region_code: str, year: int, change: Callable[[RegionYear], RegionYear | None]
    ) -> None:
        async with self._store.locks.hold(f"region:{region_year_key(region_code, year)}"):
            if changed := change(await self._store.region_year(region_code, year)):
                await self._store.save_region_year(changed)


class AuthenticationError(LookupError):
    """Wrong user name or password, or a disabled account: the page says only that."""


class Accounts:
    """The portal's accounts, for the operator's `inovda portal-users` and for logging in."""

    def __init__(self, store: PortalStore, passwords: Passwords, clock: Clock) -> None:
        self._store = store
        self._passwords = passwords
        self._clock = clock

    async def add(
        self,
        username: str,
        role: Role,
        regions: list[str],
        password: str,
        unit_code: str | None = None,
        email: str | None = None,
    ) -> Account:
        account = Account(username=username, role=role, regions=tuple(regions), unit_code=unit_code, email=email)
        await self._store.add_account(account, await self._passwords.hash(password), self._clock())
        return account

    async def list(self) -> list[Account]:
        return await self._store.accounts()

    async def disable(self, username: str) -> Account:
        account = await self._existing(username)
        disabled = account.model_copy(update={"disabled": True, "session_version": account.session_version + 1})
        await self._store.change_account(disabled)
        return disabled

    async def reset_password(self, username: str, password: str) -> Account:
        """A new password (and the account enabled again); every session signed before ends."""
        account = await self._existing(username)
        changed = account.model_copy(update={"disabled": False, "session_version": account.session_version + 1})
        await self._store.change_account(changed, await self._passwords.hash(password))
        return changed

    async def authenticate(self, username: str, password: str) -> Account:
        found = await self._store.account(username.strip().lower())
        if not await self._passwords.verify(found[1] if found else None, password) or found is None:
            raise AuthenticationError(username)
        account, stored_hash = found
        if account.disabled:
            raise AuthenticationError(username)
        if self._passwords.needs_rehash(stored_hash):
            await self._store.change_account(account, await self._passwords.hash(password))
        return account

    async def current(self, username: str, session_version: int) -> Account | None:
        """The account a session names, if the session is still good for it."""
        found = await self._store.account(username)
        if found is None or found[0].disabled or found[0].session_version != session_version:
            return None
        return found[0]

    async def _existing(self, username: str) -> Account:
        found = await self._store.account(username)
        if found is None:
            raise LookupError(f"no account {username!r}")
        return found[0]


def new_password() -> str:
    """A password to hand over once (the demo's accounts)."""
    return secrets.token_urlsafe(15)


class Reporting:
    """Sends what people type into the portal to the intake, as the portal's own outside system: a unit's
    report, and a verifier's review round (submission stores it with its history and announces it; scoring
    takes it into the verified figures)."""

    def __init__(self, store: PortalStore, publisher: IntakePublisher, source: str, clock: Clock) -> None:
        self._store = store
        self._publisher = publisher
        self._source = source
        self._clock = clock

    @property
    def source(self) -> str:
        return self._source

    async def report(
        self, account: Account, region_code: str, unit: UnitEntry, year: int, form: ReportForm, external_id: str | None
    ) -> str:
        """Publish the report (a new innovation, or a revision of one the portal reported); the message id,
        by which the page waits for the intake's answer."""
        message_id = uuid.uuid4().hex
        external_id = external_id or f"{unit.unit_code}-{uuid.uuid4().hex[:10]}".upper()
        body = report_body(
            form,
            source=self._source,
            external_id=external_id,
            region_code=region_code,
            unit_code=unit.unit_code,
            year=year,
        )
        sent = {"username": account.username, "region_code": region_code, "unit_code": unit.unit_code, "year": year}
        await self._send(
            InnovationReport.routing_key, message_id, body, {**sent, "source": self._source, "external_id": external_id}
        )
        REPORTS.inc()
        return message_id

    async def review(
        self, account: Account, region_code: str, year: int, record: InnovationRecord, revision: int, form: ReviewForm
    ) -> str:
        """Publish the round on `revision` (the caller checked `may_verify`); the message id, by which the page
        waits for the intake's answer."""
        message_id = uuid.uuid4().hex
        body = review_body(
            form,
            source=self._source,
            region_code=region_code,
            innovation_source=record.source,
            external_id=record.external_id,
            revision=revision,
            year=year,
            verifier=account.username,
        )
        sent = {"username": account.username, "region_code": region_code, "unit_code": record.unit_code, "year": year}
        sent.update(source=record.source, external_id=record.external_id, kind="review")
        await self._send(InnovationVerification.routing_key, message_id, body, sent)
        REVIEWS.inc()
        return message_id

    async def _send(self, routing_key: str, message_id: str, body: dict[str, Any], sent: dict[str, Any]) -> None:
        """Keep what was sent (the page that waits for the answer shows it), then publish it."""
        await self._store.record_submission(message_id, {**sent, "body": body, "at": self._clock()})
        await self._publisher.publish(routing_key, body, message_id, correlation_id=message_id)
