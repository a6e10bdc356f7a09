"""A notification replica reduced to holding one email for a while, as a process a test can kill -9 before the
email falls due.

python -m tests.support.one_held_email MONGODB_URL DATABASE SMTP_PORT DUE_IN_SECONDS
"""

import asyncio
import datetime as dt
import sys

from faststream.rabbit import RabbitBroker

from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery
from inovda_notification.domain import EmailMessage
from inovda_notification.settings import NotificationSettings
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay

HELD = EmailMessage(
    kind="score",
    dedupe_key="score:e-inovasi/INV-001:r1",
    to=["dinkes@kukarkab.example"],
    cc=[],
    subject="Hasil penilaian inovasi",
    text="Tingkat kematangan: 26 poin",
    html="<p>Tingkat kematangan: 26 poin</p>",
)


async def main(mongodb_url: str, database: str, smtp_port: int, due_in_seconds: float) -> None:
    client = connect(mongodb_url)
    store = NotificationStore(client[database])
    marks = CommitMarks(mongodb_url, database, "dying-replica")
    broker = RabbitBroker(logger=None)  # never connected: the process is killed before it would publish
    sender = SmtpSender(SmtpConfig("127.0.0.1", smtp_port, "Inovda <inovda@kukarkab.example>"))
    relay = OutboxRelay([store.outbox], broker, 1.0)
    delivery = build_delivery(NotificationSettings(), store, marks, sender, relay, broker)
    await delivery.holding.beat()
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in_seconds)
    await delivery.hold(HELD, "corr-held", until)
    await delivery.holding.beat()
    print("held", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
