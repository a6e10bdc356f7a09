"""Which source a sender may publish for.

Outside systems publish with the AMQP `user_id` property; RabbitMQ refuses a `user_id` that is not the
connection's own user, so the property names the sender reliably. Each broker user maps to the one
`source` it may publish for (configuration). A message without a sender, from a user that maps to no
source, or claiming another source is rejected, and its answer goes to the sender's own source (or to
`unknown`), never to the source it claimed.

With no mapping configured (a development setup with the broker's default user), nothing is checked.
"""

from collections.abc import Mapping
from dataclasses import replace

from inovda_shared.contracts.events import UNKNOWN_SOURCE, Reason
from inovda_shared.contracts.intake import IntakeModel

from .validation import Rejection


def authenticate(
    parsed: IntakeModel | Rejection, sender: str | None, source_users: Mapping[str, str]
) -> IntakeModel | Rejection:
    if not source_users:
        return parsed
    allowed = source_users.get(sender) if sender else None
    reason = _refusal(parsed.source, sender, allowed)
    if reason is None:
        return parsed
    answer_to = allowed or UNKNOWN_SOURCE
    if isinstance(parsed, Rejection):
        return replace(parsed, reasons=[reason, *parsed.reasons], source=answer_to)
    return Rejection(
        [reason],
        source=answer_to,
        key=parsed.key(),
        region_code=parsed.region_code,
        unit_code=getattr(parsed, "unit_code", None),
        title=getattr(parsed, "title", None),
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
