"""Which source a sender may publish for, and which regions a source may write.

Outside systems publish with the AMQP `user_id` property; RabbitMQ refuses a `user_id` that is not the
connection's own user, so the property names the sender reliably. Each broker user maps to the one
`source` it may publish for (`SOURCE_USERS`), and each source to the regions it may write (`SOURCE_REGIONS`;
`*` for every region). A message without a sender, from a user that maps to no source, or claiming another
source is rejected, and its answer goes to the sender's own source (or to `unknown`), never to the source
it claimed; a message for a region its source does not own is rejected (`region_not_allowed`).

The service refuses to start without both mappings unless `INTAKE_AUTH=off` says, explicitly, that intake is
not authenticated (tests and the local demo): then nothing here is checked.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.events import OPERATOR_SOURCE, UNKNOWN_SOURCE, Reason
from inovda_shared.contracts.intake import IntakeModel

from .validation import Rejection

EVERY_REGION = "*"
_REGION = re.compile(r"^\d{2}(\.\d{2}){0,3}$")


class AccessNotConfiguredError(ValueError):
    """Intake authentication is on, but who may send what is not configured."""


@dataclass(frozen=True)
class IntakeAccess:
    """Who may publish for which source (`users`: broker user -> source) and which regions each source owns
    (`regions`: source -> region codes, or `*`). `authenticated` False: nothing is checked."""

    users: Mapping[str, str]
    regions: Mapping[str, frozenset[str]]
    authenticated: bool = True

    @classmethod
    def unauthenticated(cls) -> "IntakeAccess":
        return cls({}, {}, authenticated=False)

    @classmethod
    def configured(cls, users: Mapping[str, str], regions: Mapping[str, list[str]], intake_auth: str) -> "IntakeAccess":
        """From the settings, or AccessNotConfiguredError: intake fails closed."""
        if intake_auth == "off":
            return cls.unauthenticated()
        if intake_auth != "on":
            raise AccessNotConfiguredError(f"INTAKE_AUTH is '{intake_auth}'; it is 'on' (the default) or 'off'")
        missing = [name for name, value in (("SOURCE_USERS", users), ("SOURCE_REGIONS", regions)) if not value]
        if missing:
            raise AccessNotConfiguredError(
                f"intake authentication is on and {' and '.join(missing)} is empty: render them from "
                "deploy/rabbitmq/access.json, or set INTAKE_AUTH=off to run without authentication (development only)"
            )
        wrong = sorted(
            f"{source}: {code!r}" for source, codes in regions.items() for code in codes if not _is_region(code)
        )
        if wrong:
            raise AccessNotConfiguredError(
                f"SOURCE_REGIONS names neither a region code (BPS, e.g. 64.02) nor '{EVERY_REGION}': "
                + ", ".join(wrong)
            )
        if OPERATOR_SOURCE in regions:
            raise AccessNotConfiguredError(f"SOURCE_REGIONS gives regions to '{OPERATOR_SOURCE}', which owns none")
        return cls(dict(users), {source: frozenset(codes) for source, codes in regions.items()})

    def describe(self) -> str:
        """The mode, for the log line at start."""
        if not self.authenticated:
            return "INTAKE_AUTH=off: intake is not authenticated (development only)"
        sources = set(self.users.values()) | set(self.regions)
        return f"intake authentication on: {len(self.users)} users, {len(sources)} sources"

    def sources_without_regions(self) -> list[str]:
        """Sources a user publishes for that may write no region (the operator's aside): all they send is refused."""
        return sorted(set(self.users.values()) - set(self.regions) - {OPERATOR_SOURCE})

    def owns(self, source: str, region_code: str) -> bool:
        codes = self.regions.get(source, frozenset())
        return EVERY_REGION in codes or region_code in codes


def _is_region(code: str) -> bool:
    return code == EVERY_REGION or bool(_REGION.fullmatch(code))


def authenticate(
    parsed: IntakeModel | Rejection, sender: str | None, source_users: Mapping[str, str]
) -> IntakeModel | Rejection:
    """The message as the sender may send it: rejected when the sender is not the source it claims. With no
    mapping (intake not authenticated), nothing is checked."""
    if not source_users:
        return parsed
    allowed = source_users.get(sender) if sender else None
    reason = _refusal(parsed.source, sender, allowed)
    if reason is None:
        return parsed
    answer_to = allowed or UNKNOWN_SOURCE
    if isinstance(parsed, Rejection):
        return replace(parsed, reasons=[reason, *parsed.reasons], source=answer_to)
    return Rejection.of(parsed, [reason], source=answer_to)


def authorize(parsed: IntakeModel | Rejection, access: IntakeAccess) -> IntakeModel | Rejection:
    """The message as its (authenticated) source may send it: only for a region it owns; the operator's
    transfer only to a source that owns the region. A rejection for another source's region becomes a refusal
    too, so that a malformed message cannot make Inovda email that region's unit."""
    if not access.authenticated or (isinstance(parsed, Rejection) and parsed.source == UNKNOWN_SOURCE):
        return parsed
    if isinstance(parsed, OwnershipTransfer):
        return _transfer_refusal(parsed, access) or parsed
    if isinstance(parsed, Rejection):
        if parsed.refused or parsed.region_code is None or access.owns(parsed.source, parsed.region_code):
            return parsed
        return replace(parsed, reasons=[_region_refusal(parsed.source, parsed.region_code), *parsed.reasons])
    if not access.owns(parsed.source, parsed.region_code):
        return Rejection.of(parsed, [_region_refusal(parsed.source, parsed.region_code)])
    return parsed


def admit(parsed: IntakeModel | Rejection, sender: str | None, access: IntakeAccess) -> IntakeModel | Rejection:
    """The message as its sender may send it: authenticated, the operator's command from the operator only, and
    only for the regions its source owns."""
    parsed = authenticate(parsed, sender, access.users)
    if not isinstance(parsed, Rejection) and (refusal := operator_refusal(parsed)) is not None:
        return refusal
    return authorize(parsed, access)


def operator_refusal(model: IntakeModel) -> Rejection | None:
    """The operator's command from anyone else (also when intake is not authenticated: the claimed source)."""
    if not isinstance(model, OwnershipTransfer) or model.source == OPERATOR_SOURCE:
        return None
    message = f"$routing_key: only the operator ('{OPERATOR_SOURCE}') transfers units and profiles"
    return Rejection.of(model, [Reason(field="$routing_key", code="operator_only", message=message)])


def _transfer_refusal(transfer: OwnershipTransfer, access: IntakeAccess) -> Rejection | None:
    if not access.owns(transfer.to_source, transfer.region_code):
        message = (
            f"to_source: source '{transfer.to_source}' may not write region {transfer.region_code} "
            "(SOURCE_REGIONS): it could never change what it would own"
        )
        return Rejection.of(transfer, [Reason(field="to_source", code="region_not_allowed", message=message)])
    return None


def _region_refusal(source: str, region_code: str) -> Reason:
    return Reason(
        field="region_code",
        code="region_not_allowed",
        message=f"region_code: source '{source}' may not write region {region_code[:16]}",
    )


def _refusal(claimed: str, sender: str | None, allowed: str | None) -> Reason | None:
    if sender is None:
        return Reason(
            field="$user_id",
            code="unauthenticated",
            message="publish with the AMQP user_id property set to your broker user",
        )
    if allowed is None:
        return Reason(
            field="$user_id", code="unknown_sender", message=f"user '{sender}' may not publish intake messages"
        )
    if claimed != allowed:
        return Reason(
            field="source",
            code="source_mismatch",
            message=f"source: user '{sender}' publishes for source '{allowed}', not '{claimed}'",
        )
    return None
