"""An email is marked committing just before the SMTP server is told to take it, and an email found so is
recorded as sent, never sent again. Against a real SMTP server (aiosmtpd), a real MongoDB-protocol server and
a real broker."""

import asyncio
import datetime as dt
import email.utils as email_utils
import json
import smtplib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from faststream.rabbit import RabbitBroker
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from inovda_cli.mailsink import MailSink
from inovda_cli.processes import free_port
from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender, UncertainDeliveryError, message_id
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery
from inovda_notification.delivery import Delivery
from inovda_notification.domain import EmailChange, EmailMessage, EmailStatus
from inovda_notification.settings import NotificationSettings
from inovda_notification.views import NotificationViews
from inovda_shared.mongo import Document, connect
from inovda_shared.outbox import OutboxRelay

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


class MarkFailedError(Exception):
    pass


def email(key: str = "score:e-inovasi/INV-001:r1") -> EmailMessage:
    return EmailMessage(
        kind="score",
        dedupe_key=key,
        to=["dinkes@kukarkab.example"],
        cc=["mentor@kukarkab.example"],
        subject="Skor inovasi Anda",
        text="Skor kematangan: 26.\n.\nBaris yang diawali titik tetap utuh.\n",
        html="<p>Skor kematangan: <b>26</b></p>",
    )


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with MailSink(port=free_port()) as sink:
        yield sink


def sender_for(mail: MailSink, timeout_seconds: float = 10.0) -> SmtpSender:
    return SmtpSender(
        SmtpConfig("127.0.0.1", mail.port, "Inovda <inovda@kukarkab.example>", timeout_seconds=timeout_seconds)
    )


async def test_the_mark_is_written_before_the_server_takes_the_message(mail: MailSink) -> None:
    seen_at_mark: list[int] = []

    def committing() -> None:
        time.sleep(0.3)  # time for a server that took the message early to have recorded it
        seen_at_mark.append(len(mail.received))

    await sender_for(mail).send(email(), committing)
    assert seen_at_mark == [0]
    [received] = mail.received
    assert received.dedupe_key == "score:e-inovasi/INV-001:r1"
    assert sorted(received.envelope_to) == ["dinkes@kukarkab.example", "mentor@kukarkab.example"]
    assert "Baris yang diawali titik tetap utuh." in received.part("plain")
    assert "." in received.part("plain").splitlines(), "a line of one period survives the dot-stuffing"
    assert received.message["Message-ID"] == message_id("score:e-inovasi/INV-001:r1", "inovda@kukarkab.example")
    assert received.message["Message-ID"].endswith("@kukarkab.example>")


async def test_an_indonesian_email_beyond_ascii_arrives_as_it_was_written(mail: MailSink) -> None:
    title = "Layanan “Sehat Bersama” — Désa Ñusantara, Rp 1.500.000"
    message = EmailMessage(
        kind="score",
        dedupe_key="score:e-inovasi/INV-002:r1",
        to=["dinkes@kukarkab.example"],
        cc=[],
        subject=f'Hasil penilaian inovasi "{title}": kematangan 61,5',
        text=f"Yth. Dinas Kesehatan,\n\nInovasi {title} dinilai.\n.awal baris\n",
        html=f"<p>Inovasi <strong>{title}</strong> dinilai.</p>\n<p>.awal baris</p>\n",
    )
    await sender_for(mail).send(message, lambda: None)
    [received] = mail.received
    assert received.subject == message.subject
    assert received.part("plain").replace("\r\n", "\n") == message.text
    assert received.part("html").replace("\r\n", "\n") == message.html
    assert received.message.get_content_type() == "multipart/alternative"
    assert received.message["Message-ID"] == message_id(message.dedupe_key, "inovda@kukarkab.example")
    assert "Cc" not in received.message


async def test_a_mark_that_cannot_be_written_sends_nothing(mail: MailSink) -> None:
    def committing() -> None:
        raise MarkFailedError("database unreachable")

    with pytest.raises(MarkFailedError):
        await sender_for(mail).send(email(), committing)
    await asyncio.sleep(0.5)
    assert mail.received == []


async def test_a_refusal_after_the_mark_is_reported_as_such(mail: MailSink) -> None:
    marks = 0

    def committing() -> None:
        nonlocal marks
        marks += 1

    mail.refusing = True
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await sender_for(mail).send(email(), committing)
    assert (marks, refused.value.smtp_code, mail.received) == (1, 451, [])


async def test_no_answer_after_the_message_went_out_is_uncertain(mail: MailSink) -> None:
    def committing() -> None:
        pass

    mail.answer_delay_seconds = 2.0
    with pytest.raises(UncertainDeliveryError):
        await sender_for(mail, timeout_seconds=0.5).send(email(), committing)
    assert len(mail.received) == 1, "the server has it: this is why it must not be sent again"


class CountingSink(MailSink):
    """Counts the connections it is greeted on (one EHLO each)."""

    connections = 0

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname  # what aiosmtpd does itself when no hook is there
        return responses


async def test_a_connection_is_kept_for_the_next_email_and_replaced_when_the_server_dropped_it() -> None:
    sink = CountingSink(port=free_port())
    with sink:
        sender = sender_for(sink)
        for number in range(3):
            await sender.send(email(f"receipt:e-inovasi/INV-00{number}:r1"), lambda: None)
        assert (len(sink.received), sink.connections) == (3, 1)
        sink.stop()  # the server goes away and comes back: the kept connection is dead
        sink.start()
        await sender.send(email("receipt:e-inovasi/INV-009:r1"), lambda: None)
        assert (len(sink.received), sink.connections) == (4, 2)
        sender.stop()


async def test_a_message_is_composed_once_for_all_its_attempts(mail: MailSink) -> None:
    sender = sender_for(mail)
    message = email()
    mail.refusing = True
    with pytest.raises(smtplib.SMTPDataError):
        await sender.send(message, lambda: None)
    refused_at = dt.datetime.now(dt.UTC)
    await asyncio.sleep(1.1)  # a message composed again now would say a later second in its Date
    mail.refusing = False
    await sender.send(message, lambda: None)
    date = email_utils.parsedate_to_datetime(mail.received[0].message["Date"])  # "-0000": UTC, given naive
    assert date <= refused_at.replace(tzinfo=None)


@pytest.fixture
async def stores(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[list[NotificationStore]]:
    """Two replicas' stores over one database, each with its own connection."""
    clients = [connect(mongodb_url) for _ in range(2)]
    stores = [NotificationStore(client[drop_database]) for client in clients]
    await stores[0].ensure_indexes()
    yield stores
    for client in clients:
        await client.close()


@pytest.fixture
def marks(mongodb_url: str, drop_database: str) -> Iterator[CommitMarks]:
    marks = CommitMarks(mongodb_url, drop_database, "test")
    yield marks
    marks.close()


@pytest.fixture
def broker(publisher: RabbitBroker) -> RabbitBroker:
    return publisher


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds * 20)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never met")


def delivery(
    store: NotificationStore, marks: CommitMarks, mail: MailSink, broker: RabbitBroker, at: dt.datetime = NOW
) -> Delivery:
    relay = OutboxRelay([store.outbox], broker, 1.0)
    return build_delivery(NotificationSettings(), store, marks, sender_for(mail), relay, broker, lambda: at)


async def test_an_email_whose_sender_died_after_the_mark_is_recorded_as_sent_and_not_sent_again(
    stores: list[NotificationStore],
    marks: CommitMarks,
    mail: MailSink,
    broker: RabbitBroker,
    mongodb_url: str,
    drop_database: str,
) -> None:
    first, second = stores
    message = email()
    assert await delivery(first, marks, mail, broker).record([message], "corr-1") == [message.dedupe_key]
    mail.answer_delay_seconds = 5.0  # the server has the message and has not answered yet when the sender dies
    replica = subprocess.Popen(
        [sys.executable, "-m", "tests.support.one_email_sender", mongodb_url, drop_database, str(mail.port),
         message.dedupe_key],
        cwd=ROOT,
    )  # fmt: skip
    try:
        await until(lambda: bool(mail.received))
    finally:
        replica.kill()  # SIGKILL: no handler, no finally, no lock released
        replica.wait()
    stored = await NotificationViews(first).email(message.dedupe_key)
    assert stored is not None
    assert stored.status == EmailStatus.COMMITTING
    # The dead replica's lock expires after 30 s; a test need not wait for it.
    await second.emails.database["locks"].delete_many({})

    mail.answer_delay_seconds = 0.0
    assert await delivery(second, marks, mail, broker).deliver_due() == 1
    await asyncio.sleep(0.5)
    assert [item.dedupe_key for item in mail.received] == [message.dedupe_key]
    stored = await NotificationViews(second).email(message.dedupe_key)
    assert stored is not None
    assert (stored.status, stored.confirmed, stored.attempts) == (EmailStatus.SENT, False, 1)
    assert await NotificationViews(second).emails_due(NOW + dt.timedelta(days=1)) == []
    record = await second.emails.database["outbox"].find_one({"_id": f"sent:{message.dedupe_key}"})
    assert record is not None
    assert json.loads(record["events"][0]["body"])["confirmed"] is False


async def test_an_operator_can_resend_an_email_in_doubt_but_never_a_confirmed_one(
    stores: list[NotificationStore], marks: CommitMarks, mail: MailSink, broker: RabbitBroker
) -> None:
    store = stores[0]
    in_doubt, confirmed = email("receipt:e-inovasi/INV-001:r1"), email("receipt:e-inovasi/INV-002:r1")
    sender = delivery(store, marks, mail, broker)
    await sender.record([in_doubt, confirmed], "corr-1")
    await sender.deliver(confirmed.dedupe_key)
    # As a crash after the mark leaves it, and the mail server's log shows it never arrived.
    in_doubt_now = EmailChange(status=EmailStatus.SENT, attempts=1, sent_at=NOW, confirmed=False)
    await store.update_email(in_doubt.dedupe_key, in_doubt_now)

    for key in (in_doubt.dedupe_key, confirmed.dedupe_key):
        await sender.resend(key)
    assert sorted(item.dedupe_key for item in mail.received) == sorted([in_doubt.dedupe_key, confirmed.dedupe_key])
    stored = await NotificationViews(store).email(in_doubt.dedupe_key)
    assert stored is not None
    assert (stored.status, stored.confirmed) == (EmailStatus.SENT, True)


async def test_an_email_the_server_refused_after_the_mark_goes_back_to_pending_and_is_sent_later(
    stores: list[NotificationStore], marks: CommitMarks, mail: MailSink, broker: RabbitBroker
) -> None:
    store = stores[0]
    message = email()
    await delivery(store, marks, mail, broker).record([message], "corr-1")
    mail.refusing = True
    await delivery(store, marks, mail, broker).deliver(message.dedupe_key)
    stored = await NotificationViews(store).email(message.dedupe_key)
    assert stored is not None
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert "451" in str(stored.last_error)

    mail.refusing = False
    later = delivery(store, marks, mail, broker, at=NOW + dt.timedelta(minutes=1))
    await later.deliver_due()
    assert [item.dedupe_key for item in mail.received] == [message.dedupe_key]
    stored = await NotificationViews(store).email(message.dedupe_key)
    assert stored is not None
    assert (stored.status, stored.confirmed, stored.attempts) == (EmailStatus.SENT, True, 2)


class AnswerLostMarks(CommitMarks):
    """A first attempt's mark whose write fails: stored all the same with its answer lost, or never stored."""

    def __init__(self, url: str, database: str, stored: bool) -> None:
        super().__init__(url, database, "test")
        self.stored = stored

    def commit_new(self, record: Document) -> None:
        if self.stored:
            super().commit_new(record)
            raise AutoReconnect("connection closed before the answer came")
        raise ServerSelectionTimeoutError("no server within 5 s")


@pytest.mark.parametrize("stored", [True, False], ids=["mark-stored", "mark-not-stored"])
async def test_a_first_attempt_whose_mark_failed_leaves_the_email_pending_and_it_is_sent_once_later(
    stored: bool, stores: list[NotificationStore], mongodb_url: str, drop_database: str, mail: MailSink,
    marks: CommitMarks, broker: RabbitBroker,
) -> None:  # fmt: skip
    """Nothing went to the server; a mark stored though its write failed must not leave the email committing
    (its event's redelivery would find it taken, and it would end in doubt, never sent)."""
    store = stores[0]
    message = email("receipt:e-inovasi/INV-001:r1")
    failing = AnswerLostMarks(mongodb_url, drop_database, stored)
    try:
        await delivery(store, failing, mail, broker).send_now([message], "corr-1")
    finally:
        failing.close()
    await asyncio.sleep(0.3)
    assert mail.received == []
    pending = await NotificationViews(store).email(message.dedupe_key)
    assert pending is not None
    assert (pending.status, pending.attempts) == (EmailStatus.PENDING, 0)
    assert await NotificationViews(store).emails_due(NOW) == [message.dedupe_key]

    assert await delivery(stores[1], marks, mail, broker).deliver_due() == 1
    assert [item.dedupe_key for item in mail.received] == [message.dedupe_key]
    sent = await NotificationViews(store).email(message.dedupe_key)
    assert sent is not None
    assert (sent.status, sent.confirmed, sent.attempts) == (EmailStatus.SENT, True, 1)
    assert await NotificationViews(store).emails_due(NOW + dt.timedelta(days=1)) == []


async def test_a_due_key_without_its_email_is_dropped_after_an_hour_and_holds_no_place_until_then(
    stores: list[NotificationStore], marks: CommitMarks, mail: MailSink, broker: RabbitBroker
) -> None:
    """A crash between writing the due key and the email leaves the key alone; the event's redelivery
    usually completes it. One never completed must not stay in the delivery loop's way for ever."""
    store = stores[0]
    await store.emails_due.insert_one({"_id": "orphan-old", "next_attempt_at": NOW - dt.timedelta(hours=2)})
    await store.emails_due.insert_one({"_id": "orphan-new", "next_attempt_at": NOW - dt.timedelta(minutes=5)})
    await delivery(store, marks, mail, broker).deliver_due()
    assert sorted(await NotificationViews(store).emails_due(NOW)) == ["orphan-new"]


async def test_on_shutdown_no_new_conversation_begins_and_the_email_stays_due(
    stores: list[NotificationStore], marks: CommitMarks, mail: MailSink, broker: RabbitBroker
) -> None:
    store = stores[0]
    message = email()
    stopping = delivery(store, marks, mail, broker)
    await stopping.record([message], "corr-1")
    await stopping.drain()
    await stopping.deliver(message.dedupe_key)
    await stopping.deliver_due()
    await asyncio.sleep(0.5)
    assert mail.received == []
    assert await NotificationViews(store).emails_due(NOW) == [message.dedupe_key]
    await delivery(stores[1], marks, mail, broker).deliver_due()  # another replica
    assert [item.dedupe_key for item in mail.received] == [message.dedupe_key]
