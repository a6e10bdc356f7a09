"""A notification replica reduced to one attempt at one recorded email, as a process a test can kill -9.

python -m tests.support.one_email_sender MONGODB_URL DATABASE SMTP_PORT DEDUPE_KEY
"""

import asyncio
import sys

from faststream.rabbit import RabbitBroker

from inovda_notification.adapters.smtp import SmtpConfig, SmtpSender
from inovda_notification.adapters.store import CommitMarks, NotificationStore
from inovda_notification.app import build_delivery
from inovda_notification.delivery import Delivery
from inovda_notification.settings import NotificationSettings
from inovda_shared.mongo import connect
from inovda_shared.outbox import OutboxRelay


def replica(mongodb_url: str, database: str, smtp_port: int) -> Delivery:
    """A replica's delivery, its broker never connected: the process is killed before it would publish."""
    client = connect(mongodb_url)
    store = NotificationStore(client[database])
    marks = CommitMarks(mongodb_url, database, "dying-replica")
    broker = RabbitBroker(logger=None)
    sender = SmtpSender(SmtpConfig("127.0.0.1", smtp_port, "Inovda <inovda@kukarkab.example>"))
    relay = OutboxRelay([store.outbox], broker, 1.0)
    return build_delivery(NotificationSettings(), store, marks, sender, relay, broker)


async def main(mongodb_url: str, database: str, smtp_port: int, key: str) -> None:
    delivery = replica(mongodb_url, database, smtp_port)
    print("sending", flush=True)
    await delivery.deliver(key)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
