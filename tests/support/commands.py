"""Counting the database commands of services run in-process: a PyMongo `CommandListener`, registered once
for every client the process creates afterwards (the services' own async clients and notification's
blocking one alike), that counts only while a count is running and files each command under its database
(every service has its own)."""

import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import bson
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


class CommandLog(monitoring.CommandListener):
    """The commands of one client (given as its listener): their names, what they filter on, what they return."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.filters: list[dict[str, Any]] = []
        self.returned = 0
        self.returned_bytes = 0

    def clear(self) -> None:
        self.commands.clear()
        self.filters.clear()
        self.returned = self.returned_bytes = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)
        command = event.command
        if command.get(event.command_name) == "locks":
            return
        if event.command_name == "find":
            self.filters.append(dict(command.get("filter") or {}))
        elif event.command_name in ("update", "delete"):
            key = "updates" if event.command_name == "update" else "deletes"
            self.filters.extend(dict(statement.get("q") or {}) for statement in command.get(key) or [])
        elif event.command_name == "findAndModify":
            self.filters.append(dict(command.get("query") or {}))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        documents = cursor.get("firstBatch") or cursor.get("nextBatch") or []
        self.returned += len(documents)
        self.returned_bytes += sum(len(bson.encode(document)) for document in documents)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
