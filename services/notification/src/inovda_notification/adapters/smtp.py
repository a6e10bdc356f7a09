"""Sending one email over SMTP, in two steps around the server's point of no return.

An SMTP server takes responsibility for a message when it reads the final "." of DATA. So the whole
message goes first; then `committing` records that the email is about to be sent; only then does the "."
go. A process that dies before the record sent nothing (the server drops an unfinished DATA). One that dies
after it leaves the email marked committing: the server may have it, and sending it again could be the
duplicate a unit sees, so it is recorded as sent, in doubt, for an operator to check (see delivery).

What is left is the time between the record being stored and the "." leaving the process: a death there
loses the email. The database stores a write it has received even when its writer dies waiting for the
answer, so that time is the write's round trip (milliseconds; more under load). The conversation runs in a
worker thread with the standard library's blocking `smtplib`, and `committing` is a blocking database write
in the same thread, so nothing waits for the event loop between the write's answer and the "."; and the
thread cannot be cancelled, so a shutdown cannot cut a conversation between the record and the ".".

Connections are kept open between emails, a few at most (`pool_size`, each used by one conversation at a
time, in a thread of the sender's own): a conversation on a kept connection the server has closed meanwhile
begins again on a new one (nothing was sent: the failure comes before DATA). Each email's message is
composed once, and its retries send the same bytes.

Messages are composed with the standard library's legacy `email.mime` classes, several times cheaper than
`EmailMessage` and its content manager, under a policy that refuses a header value with a line break as
`EmailMessage` does; addresses and subjects come from the domain already cleaned, and are checked again here.
"""

import asyncio
import contextlib
import email.charset
import email.utils
import hashlib
import re
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32

from cachetools import LRUCache
from opentelemetry import trace

from ..domain.model import EmailMessage

TRACER = trace.get_tracer("inovda.notification")

_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r")
_LEADING_PERIOD = re.compile(rb"(?m)^\.")
START_INPUT, COMPLETED, CLOSING = 354, 250, 421
ACCEPTED_RECIPIENT = (250, 251)
COMPOSED_KEPT = 256  # messages kept composed for their retries


class _RefusingLineBreaks(Compat32):
    """The legacy classes' policy, refusing a header value with a line break (which it would let through)."""

    def header_store_parse(self, name: str, value: str) -> tuple[str, str]:
        if "".join(value.splitlines()) != value:
            raise ValueError(f"header {name} may not contain a line break: {value!r}")
        return super().header_store_parse(name, value)


_POLICY = _RefusingLineBreaks(linesep="\r\n")
# Quoted-printable, as `EmailMessage` chose for these long-lined, mostly ASCII bodies; `compose`'s boundary
# relies on it.
_UTF8_QUOTED_PRINTABLE = email.charset.Charset("utf-8")
_UTF8_QUOTED_PRINTABLE.body_encoding = email.charset.QP


class PermanentSendError(Exception):
    """The server refused the message itself (not the moment): retrying will not help."""


class SenderStoppedError(Exception):
    """The service is shutting down: a conversation not yet begun is left to another replica (nothing sent)."""


class UncertainDeliveryError(Exception):
    """The final "." went out but no answer came back: the server may have the message or not."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0
    # Everything before the final "." must fit in this, well inside the email lock's 30 s: a replica that
    # takes over the lock of a slow attempt would otherwise find the email still pending and send it too.
    session_deadline_seconds: float = 20.0
    # A kept connection idle longer than this is closed rather than used (servers drop idle ones).
    idle_seconds: float = 30.0


class _StaleConnectionError(Exception):
    """A kept connection the server closed meanwhile: the conversation begins again on a new one."""


class SmtpSender:
    def __init__(self, config: SmtpConfig, pool_size: int = 4) -> None:
        self._config = config
        self._stopping = threading.Event()
        self._threads = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="smtp")
        self._idle: list[tuple[smtplib.SMTP, float]] = []  # kept connections, with when each was last used
        self._idle_lock = threading.Lock()
        self._composed: LRUCache[str, bytes] = LRUCache(COMPOSED_KEPT)  # used from the event loop only
        name, address = email.utils.parseaddr(config.sender)
        if "@" not in address:
            raise ValueError(f"the SMTP sender is not an address: {config.sender!r}")
        # The same for every email: encoded once (a display name beyond ASCII in RFC 2047 words).
        self._from = email.utils.formataddr((name, address), charset="utf-8")

    def stop(self) -> None:
        """Begin no new conversation (the ones under way finish): on shutdown, the queue of sends waiting for
        a thread would otherwise keep the process alive long after it was asked to stop."""
        self._stopping.set()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for client, _ in idle:
            _close(client)

    def compose(self, message: EmailMessage) -> MIMEMultipart:
        # A quoted-printable body never holds "=_" (its "=" always starts an escape or a soft line break), so
        # this boundary cannot occur in it: the generator need not search the bodies for a free one.
        mime = MIMEMultipart("alternative", boundary=f"=_{secrets.token_hex(16)}", policy=_POLICY)
        mime["From"] = self._from
        mime["To"] = ", ".join(message.to)
        if message.cc:
            mime["Cc"] = ", ".join(message.cc)
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(localtime=False)
        # The same for every copy of one email (its dedupe key, hashed): a mail system that folds repeated
        # Message-IDs drops a copy an operator resent though the first had arrived after all.
        mime["Message-ID"] = message_id(message.dedupe_key, self._config.sender)
        mime["X-Inovda-Dedupe-Key"] = message.dedupe_key
        for body, subtype in ((message.text, "plain"), (message.html, "html")):
            part = MIMENonMultipart("text", subtype, policy=_POLICY, charset="utf-8")  # MIMEText takes no Charset
            part.set_payload(body, _UTF8_QUOTED_PRINTABLE)
            del part["MIME-Version"]  # the message's own says it
            mime.attach(part)
        return mime

    async def send(self, message: EmailMessage, committing: Callable[[], None]) -> None:
        """Send `message`; `committing` (blocking, run in the sending thread) just before the server takes it.

        Raises PermanentSendError when the server refuses the message, UncertainDeliveryError when the
        outcome is unknown, whatever `committing` raised (nothing sent), or the client's error otherwise."""
        content = self._composed.get(message.dedupe_key)
        if content is None:
            content = self._composed[message.dedupe_key] = data_section(self.compose(message))
        recipients = [*message.to, *message.cc]
        with TRACER.start_as_current_span("smtp send", attributes={"inovda.email.kind": message.kind}):
            try:
                await asyncio.get_running_loop().run_in_executor(
                    self._threads, self._converse, recipients, content, committing
                )
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentSendError(f"every recipient was refused: {exc.recipients}") from exc
            except smtplib.SMTPResponseException as exc:
                if 500 <= exc.smtp_code < 600:
                    raise PermanentSendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from exc
                raise

    def _converse(self, recipients: list[str], content: bytes, committing: Callable[[], None]) -> None:
        config = self._config
        if self._stopping.is_set():
            raise SenderStoppedError("shutting down")
        deadline = time.monotonic() + config.session_deadline_seconds
        client = self._kept()
        try:
            try:
                if client is None:
                    raise _StaleConnectionError
                _envelope(client, config.sender, recipients, kept=True)
            except _StaleConnectionError:
                if client is not None:
                    _close(client)
                client = self._connect()
                _envelope(client, config.sender, recipients, kept=False)
            client.send(content)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the conversation took over {config.session_deadline_seconds:.0f} s")
            committing()
        except BaseException:
            if client is not None:
                _close(client)  # without the final ".", the server discards what it got
            raise
        try:
            client.send(b".\r\n")
            code, reply = client.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            _close(client)
            raise UncertainDeliveryError(f"no answer after the message was sent: {exc}") from exc
        if code != COMPLETED:
            _close(client)
            raise smtplib.SMTPDataError(code, reply)
        self._keep(client)

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        try:
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
            if config.username is not None and config.password is not None:
                client.login(config.username, config.password)
            client.ehlo_or_helo_if_needed()
        except BaseException:
            _close(client)
            raise
        return client

    def _kept(self) -> smtplib.SMTP | None:
        """A kept connection used recently enough, if any (the older ones are closed)."""
        now = time.monotonic()
        with self._idle_lock:
            while self._idle:
                client, used_at = self._idle.pop()
                if now - used_at <= self._config.idle_seconds:
                    return client
                _close(client)
        return None

    def _keep(self, client: smtplib.SMTP) -> None:
        if self._stopping.is_set():
            _close(client)
            return
        with self._idle_lock:
            self._idle.append((client, time.monotonic()))


def _envelope(client: smtplib.SMTP, sender_address: str, recipients: list[str], kept: bool) -> None:
    """MAIL, RCPT and DATA, up to the server's go-ahead for the message. On a kept connection, the server
    having closed it shows here (raised as _StaleConnectionError), before anything of the email was sent."""
    _, sender = email.utils.parseaddr(sender_address)
    try:
        code, reply = client.mail(sender)
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        if kept:
            raise _StaleConnectionError from exc
        raise
    if code == CLOSING and kept:
        raise _StaleConnectionError
    if code != COMPLETED:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in ACCEPTED_RECIPIENT:
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = client.docmd("DATA")
    if code != START_INPUT:
        raise smtplib.SMTPDataError(code, reply)


def _close(client: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        client.close()


def data_section(mime: MIMEMultipart) -> bytes:
    """The message as DATA carries it, without the final ".": CRLF line ends, leading periods doubled."""
    content = _LINE_ENDINGS.sub(b"\r\n", mime.as_bytes())
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return _LEADING_PERIOD.sub(b"..", content)


def message_id(dedupe_key: str, sender: str) -> str:
    """`<hash of the dedupe key@the sender's domain>`: unique per email, stable across its copies."""
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "inovda.local"
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}.inovda@{domain}>"
