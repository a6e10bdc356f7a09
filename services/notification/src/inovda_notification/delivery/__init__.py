"""Sending recorded emails: once each, retried with backoff, dead-lettered after the limit, rate limited.

An email is recorded (under its dedupe key) before the event that caused it is acknowledged; sending
happens here, right after recording and from a loop that picks up anything due (`dispatch`). Each attempt
holds the email's lock, so two replicas never send the same email at once, and an email marked sent is never
sent again (`attempts`). Just before the server is told to take the message (the final "." of DATA) the email
is marked committing (`committing`); an attempt that dies after that mark leaves the email committing, and
whoever finds it so records it as sent without the server's confirmation instead of sending it again (the
states: `domain.email_state`). Emails over a rate limit wait, and one over its source's daily quota fails
(`rate_limits`, across replicas); outcomes are announced through the outbox, and a failed email is
dead-lettered (`outcomes`).
"""

from .attempts import EmailAttempts
from .committing import CommittingSender, Sender
from .dispatch import Delivery
from .outcomes import OutcomePublisher
from .rate_limits import SendingLimits

__all__ = ["CommittingSender", "Delivery", "EmailAttempts", "OutcomePublisher", "Sender", "SendingLimits"]
