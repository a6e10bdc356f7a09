"""Sending emails: once each, retried with backoff, dead-lettered after the limit, rate limited.

An email's first attempt is made where its cause is handled, before the event is acknowledged (`first`), or
when it falls due after being held back (a score email's window, `held`, which also takes over what a dead
replica held). Just before the server is told to take the message (the final "." of DATA) the email is marked
committing (`committing`): by the first attempt, by inserting the email's record, so that of two first
attempts only one sends; by a later attempt, under the email's lock. An attempt that dies after the mark
leaves the email committing, and whoever finds it so records it as sent without the server's confirmation
instead of sending it again (the states: `domain.email_state`). What the first attempt could not send is
retried from a loop that picks up anything due, each attempt holding the email's lock (`attempts`,
`dispatch`); an email marked sent is never sent again. Emails over a rate limit wait, and one over its
source's daily quota fails (`rate_limits`, across replicas); outcomes are announced, and a failed email is
dead-lettered (`outcomes`).
"""

from .attempts import EmailAttempts
from .committing import CommittingSender, Sender
from .dispatch import Delivery
from .first import FirstAttempts
from .held import Held, Holding, owner_token
from .outcomes import OutcomePublisher
from .rate_limits import SendingLimits

__all__ = [
    "CommittingSender",
    "Delivery",
    "EmailAttempts",
    "FirstAttempts",
    "Held",
    "Holding",
    "OutcomePublisher",
    "Sender",
    "SendingLimits",
    "owner_token",
]
