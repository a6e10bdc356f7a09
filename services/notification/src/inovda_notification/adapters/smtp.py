"""Sending one email over SMTP (aiosmtplib).

Headers are built by the standard library's `EmailMessage`, which refuses a header value with a line
break; addresses and subjects come from the domain already cleaned, and are checked again here.
"""

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage

import aiosmtplib
from opentelemetry import trace

from ..domain.model import EmailMessage

TRACER = trace.get_tracer("inovda.notification")


class PermanentSendError(Exception):
    """The server refused the message itself (not the moment): retrying will not help."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def compose(self, message: EmailMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self._config.sender
        mime["To"] = ", ".join(message.to)
        if message.cc:
            mime["Cc"] = ", ".join(message.cc)
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(localtime=False)
        # The dedupe key makes the Message-ID: a re-sent copy is recognisable as the same email.
        mime["Message-ID"] = email.utils.make_msgid(idstring=_idstring(message.dedupe_key), domain="inovda.local")
        mime["X-Inovda-Dedupe-Key"] = message.dedupe_key
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: EmailMessage) -> None:
        with TRACER.start_as_current_span("smtp send", attributes={"inovda.email.kind": message.kind}):
            await self._send(message)

    async def _send(self, message: EmailMessage) -> None:
        config = self._config
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                start_tls=config.starttls,
                timeout=config.timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"every recipient was refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentSendError(f"SMTP {exc.code}: {exc.message}") from exc
            raise


def _idstring(dedupe_key: str) -> str:
    return "".join(character if character.isalnum() else "." for character in dedupe_key)[:60]
