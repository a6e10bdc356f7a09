"""Requests to a service that are not facts: sent by an operator's command or a dead letter replayed."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class EmailResend(BaseModel):
    """Send an email again by its dedupe key: a failed one (its dead letter replayed), or one in doubt that the
    mail server's log does not have (`inovda emails resend`). A confirmed one is never sent again."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    # Published to the notification queue itself (the default exchange), with this routing key in the
    # original-routing-key header, as a dead-letter replay is.
    routing_key: ClassVar[str] = "notification.email.resend"

    dedupe_key: str
