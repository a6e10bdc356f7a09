"""Counting the database commands of services run in-process: a PyMongo `CommandListener`, registered once
for every client the process creates afterwards (the services' own async clients and notification's
blocking one alike), that counts only while a count is running and files each command under its database
(every service has its own)."""

import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import monitoring

# Not a service's work: the driver's own handshakes and the readiness probe's pings.
NOT_COUNTED = frozenset({"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"})


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self._lock = threading.Lock()  # commands come from the event loop and from the SMTP sender's threads
        self._counting = False
        self.commands: collections.Counter[tuple[str, str, str]] = collections.Counter()

    def start(self) -> None:
        with self._lock:
            self.commands.clear()
            self._counting = True

    def stop(self) -> None:
        with self._lock:
            self._counting = False

    def of(self, database: str) -> int:
        with self._lock:
            return sum(count for (name, _, _), count in self.commands.items() if name == database)

    def breakdown(self, database: str) -> dict[str, int]:
        """`command collection` -> count, for a failure's message and the report."""
        with self._lock:
            return {
                f"{command} {collection}": count
                for (name, command, collection), count in sorted(self.commands.items())
                if name == database
            }

    def total(self) -> int:
        with self._lock:
            return sum(self.commands.values())

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in NOT_COUNTED:
            return
        collection = event.command.get(event.command_name)
        with self._lock:
            if self._counting:
                self.commands[(event.database_name, event.command_name, str(collection))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_COUNTER: CommandCounter | None = None


def process_counter() -> CommandCounter:
    """The process's one counter (PyMongo cannot unregister a listener: registered once, idle between counts)."""
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = CommandCounter()
        monitoring.register(_COUNTER)
    return _COUNTER


@contextmanager
def counting() -> Iterator[CommandCounter]:
    counter = process_counter()
    counter.start()
    try:
        yield counter
    finally:
        counter.stop()
