"""A notification replica reduced to one attempt at one recorded email, as a process a test can kill -9.

python -m tests.support.one_email_sender MONGODB_URL DATABASE SMTP_PORT DEDUPE_KEY
"""

import asyncio
import sys

from faststream.rabbit import RabbitBroker

from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery
from inovda_notification.settings import NotificationSettings
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay


async def main(mongodb_url: str, database: str, smtp_port: int, key: str) -> None:
    client = connect(mongodb_url)
    store = NotificationStore(client[database])
    marks = CommitMarks(mongodb_url, database, "dying-replica")
    broker = RabbitBroker(logger=None)  # never connected: the process is killed before it would publish
    sender = SmtpSender(SmtpConfig("127.0.0.1", smtp_port, "Inovda <inovda@kukarkab.example>"))
    relay = OutboxRelay([store.outbox], broker, 1.0)
    delivery = build_delivery(NotificationSettings(), store, marks, sender, relay, broker)
    print("sending", flush=True)
    await delivery.deliver(key)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
