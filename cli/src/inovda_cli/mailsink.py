"""A local SMTP server that keeps every email it accepts: the demo's outbox, and the tests' inbox.

Each accepted email is written to a folder as an `.eml` file (when one is given) and kept in memory.
`refusing` makes it answer every message with a temporary failure, as a mail server under maintenance does;
`stop()` closes the port (connections are refused, as when the server is down) and `start()` opens it again.
`answer_delay_seconds` keeps an accepted email's answer back, as a server slow to confirm does.
"""

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedEmail:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def dedupe_key(self) -> str:
        return str(self.message["X-Inovda-Dedupe-Key"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


class MailSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 1025, folder: Path | None = None) -> None:
        self.received: list[ReceivedEmail] = []
        self.refusing = False
        self.refused = 0
        self.answer_delay_seconds = 0.0
        self._folder = folder
        self._lock = threading.Lock()
        self._host = host
        self._port = port
        self._controller: Controller | None = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> "MailSink":
        if self._controller is None:
            # A controller cannot start again once stopped (its event loop is closed): a new one each time.
            self._controller = Controller(self, hostname=self._host, port=self._port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "MailSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.refusing:
            with self._lock:
                self.refused += 1
            return "451 4.3.0 Server busy, try again later"
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(ReceivedEmail(list(envelope.rcpt_tos), message))
            number = len(self.received)
        if self._folder is not None:
            (self._folder / f"{number:04d}.eml").write_bytes(content)
        if self.answer_delay_seconds:
            await asyncio.sleep(self.answer_delay_seconds)
        return "250 OK"

    def with_key(self, dedupe_key: str) -> list[ReceivedEmail]:
        return [item for item in self.received if item.dedupe_key == dedupe_key]
