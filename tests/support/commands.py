"""Counting the database commands a piece of work issues, what they filter on, and what they return."""

from typing import Any

import bson
from pymongo import monitoring


class CommandCounter(monitoring.CommandListener):
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
