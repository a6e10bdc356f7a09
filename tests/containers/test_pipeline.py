"""The pipeline through the containers, as outside systems use it: the region's profile, its units and 50
innovation reports published to the containerised broker by the outside systems' own users (with `user_id`),
the answers read from their results queues; every answer, every score and every email exactly once."""

from typing import Any

from .outside import Consumer, Ledger, Publisher, now, problems, send, settle, until
from .stack import Stack

REPORTS = 50
UNITS = 12


async def test_profile_units_and_50_reports_through_the_containers(
    system: Stack,
    observer: Consumer,
    results: dict[str, Consumer],
    publishers: dict[str, Publisher],
    figures: dict[str, Any],
) -> None:
    ledger = Ledger("64.10", "CTP")
    started = now()
    registrations = ledger.registrations(UNITS)
    await send(publishers, registrations, rate=30)
    ids = {intake.message_id for intake in registrations}
    assert await until(lambda: ids <= {str(s.body.get("message_id")) for c in results.values() for s in c.seen}, 120), (
        "registrations not answered"
    )
    registered = now()
    await send(publishers, ledger.reports(REPORTS), rate=10)
    published = now()
    outcome, done = await settle(ledger, system.mail_dir, observer, results, within=360)
    assert problems(outcome) == {}, problems(outcome)
    assert outcome["messages"] == UNITS + 1 + REPORTS
    assert outcome["answers"] == outcome["messages"]
    assert outcome["scores"] == REPORTS
    assert outcome["emails"] == outcome["emails_expected"] >= 2 * REPORTS
    figures["pipeline"] = {
        "messages": outcome["messages"],
        "answers": outcome["answers"],
        "scores": outcome["scores"],
        "emails": outcome["emails"],
        "registrations_answered_seconds": round(registered - started, 1),
        "reports_published_seconds": round(published - registered, 1),
        "all_out_after_last_publish_seconds": round(done - published, 1),
    }
