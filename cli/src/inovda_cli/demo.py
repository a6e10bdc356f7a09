"""The main job, end to end on this machine: Kukar's systems publish a year of data, Inovda answers,
scores, emails and reports.

Starts a local SMTP server that writes every email to `var/mail/`, and the three services as separate
processes (on demo databases, emptied first); publishes the data set the way an outside system would
(registrations first, then reports); waits with a progress bar until everything is answered, scored and
emailed; prints the region's report; and stops what it started.

The demo's region has its deadline two weeks from today, so units without an innovation are in the
weekly-reminder month. Reminders go out on the notification service's schedule pass, which runs when it
starts and then hourly; the demo restarts the service once the data is in, as an operator's deploy would,
so that the pass sees who really has no innovation (and shows that a restart sends nothing twice).
"""

import asyncio
import datetime as dt
import json
import secrets
import sys
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker

from inovda_portal.service import new_password
from inovda_shared.mongo import connect
from inovda_shared.topology import EVENTS_EXCHANGE, NOTIFICATION_QUEUE, PORTAL_QUEUE, declare_topology

from .demo_data import KUKAR, YEAR, demo_data, review_rounds
from .mailsink import MailSink
from .portal_users import portal_accounts
from .processes import ServiceProcess
from .publish import publish_messages
from .report import region_report

# The services' own default databases, so that `inovda report`, `inovda portal-users` and a portal started by
# hand find the demo's data without being told where. A database the demo did not create is never emptied.
DATABASES = {
    "submission": "inovda_submission",
    "scoring": "inovda_scoring",
    "notification": "inovda_notification",
    "portal": "inovda_portal",
}
DEMO_MARK = "inovda_demo"
PORTAL_PORT = 8080
SESSION_SECRET = Path("var/secrets/portal-session-secret")
DEMO_UNIT = "DINKES"  # the demo's unit account, and its mentor's
MAIL_FOLDER = Path("var/mail")
SMTP_PORT = 1025
SCHEDULE_INTERVAL_SECONDS = 3600
SETTLE_SECONDS = 3.0
# The demo shows in a minute what takes a day: a score email waits 2 s for a newer revision (not 5 min), the
# office is emailed 2 s after a new predicate and once the IID has rested 5 s (not 15 min, at most hourly).
HELD_EMAILS = {
    "SCORE_EMAIL_WINDOW_SECONDS": "2",
    "INDEX_PREDICATE_SETTLE_SECONDS": "2",
    "INDEX_QUIET_SECONDS": "5",
    "INDEX_MIN_GAP_SECONDS": "0",
}
HELD_SECONDS = 8.0  # the longest of those, with room: what emails_settled waits for after the queue is drained


@dataclass
class Tally:
    answered: int = 0
    accepted: int = 0
    rejected: int = 0
    to_score: int = 0
    scored: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    rounds: int = 0  # review rounds stored (`innovation.verified`)
    rounds_scored: int = 0  # ... and taken into the verified figures


class Watcher:
    """Counts what Inovda publishes while the demo runs, on a private queue bound to `inovda.events`."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.changed = asyncio.Event()
        self._seen: set[str | None] = set()
        self.accepted: set[str] = set()  # the message ids of the accepted intake messages

    async def on_event(self, message: AbstractIncomingMessage) -> None:
        if message.message_id in self._seen:
            return  # delivery is at-least-once: a relayed copy of an event already counted
        self._seen.add(message.message_id)
        key = message.routing_key or ""
        if key.startswith("intake."):
            self.tally.answered += 1
            if key.startswith("intake.accepted."):
                self.tally.accepted += 1
                self.accepted.add(str(json.loads(message.body).get("message_id")))
            else:
                self.tally.rejected += 1
        elif key == "innovation.submitted":
            self.tally.to_score += 1
        elif key == "innovation.verified":
            self.tally.rounds += 1
        elif key == "innovation.scored" and json.loads(message.body).get("reviewed_round"):
            self.tally.rounds_scored += 1
        elif key == "innovation.scored":
            self.tally.scored += 1
        elif key == "notification.sent":
            self.tally.emails_sent += 1
        elif key == "notification.failed":
            self.tally.emails_failed += 1
        self.changed.set()

    async def until(self, answered: int, within_seconds: float = 600) -> None:
        """Wait until `answered` intake answers arrived and every submitted innovation is scored."""

        async def wait() -> None:
            while True:
                progress(self.tally, answered)
                if self.tally.answered >= answered and self.tally.scored >= self.tally.to_score:
                    return
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within_seconds)

    async def until_reviewed(self, answered: int, within_seconds: float = 600) -> None:
        """Wait until `answered` intake answers arrived and every stored review round is in the figures."""

        async def wait() -> None:
            while self.tally.answered < answered or self.tally.rounds_scored < self.tally.rounds:
                progress(self.tally, answered)
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), within_seconds)


def progress(tally: Tally, expected: int) -> None:
    total = expected + tally.to_score
    done = tally.answered + tally.scored
    width = 40
    filled = int(width * done / total) if total else width
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] dijawab {tally.answered}/{expected} "
        f"(diterima {tally.accepted}, ditolak {tally.rejected}), dinilai {tally.scored}/{tally.to_score}, "
        f"email {tally.emails_sent}"
    )
    sys.stderr.flush()


class NotADemoDatabaseError(RuntimeError):
    pass


async def empty_demo_databases(mongodb_url: str) -> None:
    """Empty the databases of an earlier demo, and mark them as the demo's; refuse one with other data."""
    client = connect(mongodb_url)
    try:
        existing = set(await client.list_database_names())
        for database in DATABASES.values():
            if database in existing:
                if await client[database][DEMO_MARK].find_one({"_id": DEMO_MARK}) is None:
                    raise NotADemoDatabaseError(
                        f"database {database!r} holds data the demo did not make: it is left alone. Run the demo "
                        "against another MongoDB (MONGODB_URL), or drop that database yourself."
                    )
                await client.drop_database(database)
            await client[database][DEMO_MARK].insert_one({"_id": DEMO_MARK, "at": dt.datetime.now(dt.UTC)})
    finally:
        await client.close()


async def demo_accounts(mongodb_url: str) -> list[tuple[str, str, str]]:
    """The portal's four demo accounts (role, user name, password), the passwords new each run."""
    wanted = [
        ("admin", "brida", {"email": "brida@kukarkab.example"}),
        ("mentor", "pendamping", {"email": f"pendamping.{DEMO_UNIT.lower()}@kukarkab.example"}),
        ("unit", DEMO_UNIT.lower(), {"unit_code": DEMO_UNIT}),
        ("verifier", "verifikator", {}),
    ]
    created = []
    async with portal_accounts(mongodb_url, DATABASES["portal"]) as accounts:
        for role, username, extra in wanted:
            password = new_password()
            await accounts.add(username, role, [KUKAR], password, **extra)  # type: ignore[arg-type]
            created.append((role, username, password))
    return created


def session_secret() -> Path:
    """The portal's cookie-signing key for the demo: made once, kept with the machine's other secrets."""
    if not SESSION_SECRET.exists():
        SESSION_SECRET.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        SESSION_SECRET.write_text(secrets.token_urlsafe(48))
        SESSION_SECRET.chmod(0o600)
    return SESSION_SECRET.resolve()


async def run_demo(amqp_url: str, mongodb_url: str, keep_running: bool = False) -> None:
    data = demo_data()
    await empty_demo_databases(mongodb_url)
    accounts = await demo_accounts(mongodb_url)

    common = {"AMQP_URL": amqp_url, "MONGODB_URL": mongodb_url}
    deadline = dt.date.today() + dt.timedelta(days=14)
    notification_env = {
        **common,
        "MONGODB_DATABASE": DATABASES["notification"],
        "SMTP_PORT": str(SMTP_PORT),
        "SCHEDULE_INTERVAL_SECONDS": str(SCHEDULE_INTERVAL_SECONDS),
        "REMINDER_SCHEDULES": json.dumps({f"{KUKAR}/{YEAR}": {"deadline": deadline.isoformat()}}),
        # Every demo address is at one made-up domain; a real office's mail server takes 60 a minute.
        "RATE_LIMIT_PER_DOMAIN_PER_MINUTE": "1000",
        "RATE_LIMIT_GLOBAL_PER_MINUTE": "1000",
        **HELD_EMAILS,
    }
    notification = ServiceProcess("inovda-notification", notification_env)
    portal_env = {
        **common,
        "MONGODB_DATABASE": DATABASES["portal"],
        "HTTP_PORT": str(PORTAL_PORT),
        "HTTP_HOST": "127.0.0.1",
        "SESSION_SECRET_FILE": str(session_secret()),
        "SESSION_COOKIE_SECURE": "false",  # plain http on this machine's loopback only
    }
    portal = ServiceProcess("inovda-portal", portal_env)
    services = [
        # The demo publishes as the broker's default user, as no outside system: intake unauthenticated.
        ServiceProcess(
            "inovda-submission", {**common, "MONGODB_DATABASE": DATABASES["submission"], "INTAKE_AUTH": "off"}
        ),
        ServiceProcess("inovda-scoring", {**common, "MONGODB_DATABASE": DATABASES["scoring"]}),
        notification,
        portal,
    ]
    folder = MAIL_FOLDER / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    async with AsyncExitStack() as stack:
        mail = stack.enter_context(MailSink(port=SMTP_PORT, folder=folder))
        print("Menjalankan layanan:", ", ".join(service.command for service in services), file=sys.stderr)
        for service in services:
            await stack.enter_async_context(service)
        watcher = Watcher()
        connection = await aio_pika.connect(amqp_url)
        stack.push_async_callback(connection.close)
        await declare_all(amqp_url)
        channel = await connection.channel()
        exchange = await channel.get_exchange(EVENTS_EXCHANGE.name)
        queue = await channel.declare_queue(f"demo.watch.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key="#")
        await queue.consume(watcher.on_event, no_ack=True)

        # Registrations first, answered, then the reports that name the units: as an outside system must.
        await publish_messages(amqp_url, data.registrations)
        await watcher.until(answered=len(data.registrations))
        await publish_messages(amqp_url, data.reports)
        answered = len(data.registrations) + len(data.reports)
        await watcher.until(answered=answered)
        # The innovation office's verifier reviews some of them in the portal: one round each.
        rounds = review_rounds(data.reports, watcher.accepted)
        await publish_messages(amqp_url, rounds)
        await watcher.until_reviewed(answered=answered + len(rounds))
        await emails_settled(amqp_url, mongodb_url, watcher)
        await notification.stop_async()
        await stack.enter_async_context(ServiceProcess("inovda-notification", notification_env))
        await emails_settled(amqp_url, mongodb_url, watcher)
        await queue_drained(amqp_url, PORTAL_QUEUE.name)
        sys.stderr.write("\n")
        print(await report(mongodb_url, DATABASES["scoring"]))
        print()
        print(mail_summary(mail, folder))
        print()
        print(portal_summary(f"http://127.0.0.1:{portal.http_port}/", accounts, keep_running))
        if keep_running:
            print("Layanan tetap berjalan; tekan Ctrl+C untuk berhenti.", file=sys.stderr)
            await asyncio.Event().wait()


async def emails_settled(amqp_url: str, mongodb_url: str, watcher: Watcher, within_seconds: float = 600) -> None:
    """Until the notification queue is drained, the held emails' time has passed, and no email is pending."""
    client = connect(mongodb_url)
    emails = client[DATABASES["notification"]]["emails"]
    connection = await aio_pika.connect(amqp_url)
    try:
        async with asyncio.timeout(within_seconds):
            drained_at: float | None = None
            while True:
                channel = await connection.channel()
                queue = await channel.declare_queue(NOTIFICATION_QUEUE.name, passive=True)
                await channel.close()
                backlog = queue.declaration_result.message_count or 0
                pending = await emails.count_documents({"status": "pending"})
                now = asyncio.get_running_loop().time()
                drained_at = (drained_at or now) if backlog == 0 else None
                if drained_at is not None and now - drained_at > HELD_SECONDS and pending == 0:
                    return
                progress(watcher.tally, watcher.tally.answered)
                await asyncio.sleep(0.5)
    finally:
        await connection.close()
        await client.close()


async def queue_drained(amqp_url: str, queue_name: str, within_seconds: float = 300) -> None:
    """Until a service's queue has had nothing waiting or unacknowledged for a moment."""
    connection = await aio_pika.connect(amqp_url)
    try:
        async with asyncio.timeout(within_seconds):
            quiet_since: float | None = None
            while True:
                channel = await connection.channel()
                queue = await channel.declare_queue(queue_name, passive=True)
                await channel.close()
                now = asyncio.get_running_loop().time()
                waiting = queue.declaration_result.message_count or 0
                quiet_since = (quiet_since or now) if waiting == 0 else None
                if quiet_since is not None and now - quiet_since > SETTLE_SECONDS:
                    return
                await asyncio.sleep(0.5)
    finally:
        await connection.close()


def portal_summary(url: str, accounts: list[tuple[str, str, str]], keep_running: bool) -> str:
    lines = [f"Portal: {url}", "Akun demo (kata sandi hanya ditampilkan sekali ini):"]
    labels = {
        "admin": "admin kantor inovasi",
        "mentor": "pendamping",
        "unit": f"operator unit {DEMO_UNIT}",
        "verifier": "pemverifikasi",
    }
    lines += [f"  {labels[role]:<24} {username:<12} {password}" for role, username, password in accounts]
    if not keep_running:
        lines.append(
            "Layanan dihentikan setelah demo; jalankan `.venv/bin/inovda demo --keep-running` untuk menjelajah."
        )
    lines += [
        "Lihat lagi kapan saja (data demo ada di basis data bawaan layanan):",
        f"  .venv/bin/inovda report --region {KUKAR} --year {YEAR}",
        "  .venv/bin/inovda portal-users list",
    ]
    return "\n".join(lines)


async def declare_all(amqp_url: str) -> None:
    """Every service queue exists before the data flows, also the one whose service starts later."""
    broker = RabbitBroker(amqp_url, logger=None)
    await broker.connect()
    await declare_topology(broker)
    await broker.stop()


def mail_summary(mail: MailSink, folder: Path) -> str:
    kinds = Counter(item.dedupe_key.split(":", 1)[0] for item in mail.received)
    labels = {
        "receipt": "tanda terima",
        "rejection": "penolakan",
        "score": "hasil penilaian",
        "review": "hasil verifikasi",
        "reminder": "pengingat",
        "predicate": "perubahan predikat",
        "digest": "ringkasan mingguan",
    }
    detail = ", ".join(f"{labels.get(kind, kind)} {count}" for kind, count in sorted(kinds.items()))
    return f"{len(mail.received)} email ditulis ke {folder}/ ({detail})"


async def report(mongodb_url: str, scoring_database: str) -> str:
    return await region_report(mongodb_url, scoring_database, KUKAR, YEAR, chart=None)
