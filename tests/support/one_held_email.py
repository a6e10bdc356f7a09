"""A notification replica reduced to holding one email for a while, as a process a test can kill -9 before the
email falls due.

python -m tests.support.one_held_email MONGODB_URL DATABASE SMTP_PORT DUE_IN_SECONDS
"""

import asyncio
import datetime as dt
import sys

from inovda_notification.domain import EmailMessage
from tests.support.one_email_sender import replica

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
    delivery = replica(mongodb_url, database, smtp_port)
    await delivery.holding.beat()
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=due_in_seconds)
    await delivery.hold(HELD, "corr-held", until)
    await delivery.holding.beat()
    print("held", flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
