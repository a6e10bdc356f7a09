"""Read-only questions about this service's own data, for the operator's CLI and the coming portal."""

import datetime as dt

from .adapters.store import NEVER, NotificationStore
from .domain import StoredEmail


class NotificationViews:
    def __init__(self, store: NotificationStore) -> None:
        self._store = store

    async def email(self, dedupe_key: str) -> StoredEmail | None:
        """An email by its dedupe key, with its state (pending, committing, sent or failed), attempts and times."""
        return await self._store.email(dedupe_key)

    async def emails_due(self, now: dt.datetime) -> list[str]:
        """The dedupe keys of the emails still to be attempted at `now` (up to a delivery pass's worth)."""
        return await self._store.due_emails(now)

    async def unsettled_emails(self) -> list[str]:
        """The dedupe keys of emails neither sent nor failed for good that the delivery loop has still to look at
        (pending, or committing with a look due: an attempt that may have died), up to a pass's worth."""
        due = await self._store.due_emails(NEVER)
        return [key for key in due if (email := await self._store.email(key)) is not None and not email.status.settled]
