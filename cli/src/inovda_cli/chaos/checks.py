"""The checks: what was sent against what came out (answers, stored revisions, `innovation.scored`, the region
index recomputed from the messages themselves, emails by dedupe key, queues, dead letters, health), each able
to fail, with what it lost or doubled.

A doubled email is reported with when its copies arrived and how soon after the first copy a notification
replica was gone (`evidence`), the gap the README names: accepted by the SMTP server, and the process gone
before it recorded that."""

import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from inovda_notification.adapters.store import NotificationStore
from inovda_notification.domain.expectations import index_email_problems, score_emails_expected
from inovda_notification.views import NotificationViews
from inovda_portal.adapters.store import PortalStore
from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.domain import InnovationScore, compute_index, full_totals, load_rubric, score_innovation
from inovda_shared.contracts.events import RegionIndexUpdated
from inovda_shared.contracts.intake import InnovationReport, RegionProfile
from inovda_shared.mongo import connect
from inovda_shared.topology import SERVICE_QUEUES
from inovda_submission.domain.records import entity_id

from ..deadletters import list_dead_letters
from ..scoring import scoring_library
from .cluster import Cluster
from .dataset import Dataset, Innovation, Intake
from .forms import DATABASES, NO_RUBRIC_YEAR, YEAR
from .load import Load
from .watcher import Seen, Watcher


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    lost: int = 0
    duplicated: int = 0
    evidence: list[dict[str, Any]] = field(default_factory=list)


def sample(items: Iterable[Any], limit: int = 6) -> str:
    listed = sorted(str(item) for item in items)
    return ", ".join(listed[:limit]) + (f" (+{len(listed) - limit} more)" if len(listed) > limit else "")


async def verify(
    cluster: Cluster,
    watcher: Watcher,
    load: Load,
    redelivery: dict[str, Any],
    ready: dict[str, bool],
    exit_codes: dict[str, int | None],
) -> list[Check]:
    """Every check, each able to fail; a section that cannot be read fails with the reason."""
    scored: dict[tuple[str, int], list[Seen]] = defaultdict(list)
    for event in watcher.of("innovation.scored"):
        scored[(event.body["external_id"], event.body["revision"])].append(event)
    checks = _verify_answers(watcher, load.dataset)
    sections: list[tuple[str, Callable[[], Awaitable[list[Check]]]]] = [
        ("stored and scored", lambda: _verify_stored(cluster, watcher, load.dataset, scored, redelivery)),
        ("emails", lambda: _verify_emails(cluster, watcher, load, scored)),
        ("queues", lambda: _verify_queues(cluster, watcher)),
        ("portal", lambda: _verify_portal(cluster, watcher, load.dataset)),
    ]
    for name, section in sections:
        try:
            checks += await section()
        except Exception as exc:  # e.g. a read model changed shape: say so, and go on with the other checks
            checks.append(Check(f"{name}: could not be checked", False, f"{type(exc).__name__}: {exc}"))
    checks.append(
        Check(
            "all services ready at the end",
            all(ready.values()),
            sample(name for name, ok in ready.items() if not ok) or f"{len(ready)} of {len(ready)}",
        )
    )
    checks.append(
        Check(
            "every replica exits 0 on SIGTERM at the end",
            all(code == 0 for code in exit_codes.values()),
            ", ".join(f"{name} {code}" for name, code in exit_codes.items()),
        )
    )
    return checks


def _verify_answers(watcher: Watcher, dataset: Dataset) -> list[Check]:
    """Exactly one answer per message (an exact duplicate is the same message), with the right content."""
    checks = []
    answers = watcher.answers()
    for expect in ("accepted", "rejected"):
        expected = {i.message_id: i for i in dataset.intakes.values() if i.expect == expect}
        missing = [m for m in expected if m not in answers]
        doubled = [m for m in expected if len(answers.get(m, [])) > 1]
        wrong = [
            m
            for m, intake in expected.items()
            if any(_wrong_answer(answer.body, intake) for answer in answers.get(m, []))
        ]
        checks.append(
            Check(
                f"every {'valid' if expect == 'accepted' else 'malformed'} message: exactly one {expect} answer"
                + (" naming the right revision" if expect == "accepted" else ""),
                not missing and not doubled and not wrong,
                f"{len(expected)} messages; missing {len(missing)}, more than one {len(doubled)}, wrong {len(wrong)}"
                + (f": {sample(missing + doubled + wrong)}" if missing or doubled or wrong else ""),
                lost=len(missing),
                duplicated=len(doubled),
            )
        )
    unknown = [m for m in answers if m not in dataset.intakes]
    checks.append(Check("no answer to a message nobody sent", not unknown, f"{len(unknown)} {sample(unknown)}"))
    return checks


def _wrong_answer(answer: dict[str, Any], intake: Intake) -> bool:
    if answer["status"] != intake.expect:
        return True
    return intake.expect == "accepted" and (answer["revision"], answer["unchanged"]) != (
        intake.revision,
        intake.unchanged,
    )


async def _verify_stored(
    cluster: Cluster,
    watcher: Watcher,
    dataset: Dataset,
    scored: dict[tuple[str, int], list[Seen]],
    redelivery: dict[str, Any],
) -> list[Check]:
    """What the services stored (revisions, scores, the index, compliance) against what was sent."""
    checks = []
    client = connect(cluster.ferret.url)
    try:
        # Submission: every revision of every accepted innovation stored once, as sent. One read of the history
        # collection (`innovations_versions`, see inovda_submission.adapters.store): any filter but `_id` reads
        # the whole collection (see inovda_shared.mongo), so one read per innovation would take minutes.
        history = client[DATABASES["submission"]]["innovations_versions"]
        stored: dict[str, dict[int, Any]] = defaultdict(dict)
        async for document in history.find({}, {"entity_id": 1, "version": 1, "data": 1}):
            stored[document["entity_id"]][document["version"]] = document["data"]
        innovations = list(dataset.innovations.values())
        missing, differs, extra = [], [], 0
        for innovation in innovations:
            versions = stored.get(entity_id(_report(innovation.revisions[0])), {})
            for number, body in enumerate(innovation.revisions, start=1):
                if number not in versions:
                    missing.append(f"{innovation.external_id} r{number}")
                elif versions[number] != _report(body).model_dump(mode="json"):
                    differs.append(f"{innovation.external_id} r{number}")
            extra += sum(1 for number in versions if not 1 <= number <= len(innovation.revisions))
        checks.append(
            Check(
                "every revision of every accepted innovation stored once, as sent",
                not missing and not differs and not extra,
                f"{len(innovations)} innovations, {sum(len(i.revisions) for i in innovations)} revisions; "
                f"missing {len(missing)}, extra versions {extra}, stored otherwise than sent {len(differs)}"
                + (f": {sample(missing + differs)}" if missing or differs else ""),
                lost=len(missing),
                duplicated=extra,
            )
        )

        # innovation.scored: the latest revision of every innovation of a year with a rubric, no revision twice.
        scorable = [i for i in innovations if i.year == YEAR]
        unscored = [i.external_id for i in scorable if (i.external_id, len(i.revisions)) not in scored]
        twice = [f"{key[0]} r{key[1]}" for key, events in scored.items() if len(events) > 1]
        never_sent = [
            f"{key[0]} r{key[1]}"
            for key in scored
            if key[0] not in dataset.innovations
            or dataset.innovations[key[0]].year != YEAR
            or not 1 <= key[1] <= len(dataset.innovations[key[0]].revisions)
        ]
        checks.append(
            Check(
                "every innovation's latest revision scored (innovation.scored), no revision twice",
                not unscored and not twice and not never_sent,
                f"{len(scorable)} innovations, {len(scored)} revisions scored; latest unscored {len(unscored)}, "
                f"scored twice {len(twice)}, never sent {len(never_sent)}"
                + (f": {sample(unscored + twice + never_sent)}" if unscored or twice or never_sent else ""),
                lost=len(unscored),
                duplicated=len(twice),
            )
        )
        late = set(redelivery["late_older_revisions"])
        late_scored = [key for key, events in scored.items() if key[0] in late and events[-1].at >= redelivery["at"]]
        checks.append(
            Check(
                "an older revision delivered after a newer one is not scored",
                bool(late) and not late_scored,
                f"{len(late)} delivered; scored {len(late_scored)}",
            )
        )

        # Scoring's read model: each innovation at its latest revision, with the maturity its rubric gives.
        store = ScoringStore(client[DATABASES["scoring"]])
        read_model: dict[str, dict[str, Any]] = {}
        for region in dataset.regions:
            async for document in store.innovations.find({"placement.region_code": region, "placement.year": YEAR}):
                read_model[document["external_id"]] = document
        rubric = load_rubric(YEAR)
        scores = {i.external_id: score_innovation(_report(i.revisions[-1]), rubric) for i in scorable}
        wrong_stored = [
            external_id
            for external_id, score in scores.items()
            if external_id not in read_model
            or read_model[external_id]["revision"] != len(dataset.innovations[external_id].revisions)
            or (read_model[external_id]["maturity"], read_model[external_id]["eligible"])
            != (score.maturity, score.eligible)
        ]
        surplus = [key for key in read_model if key not in scores]
        checks.append(
            Check(
                "scoring's read model: each innovation at its latest revision, with the maturity its rubric gives",
                not wrong_stored and not surplus,
                f"{len(read_model)} stored; wrong or missing {len(wrong_stored)}, unexpected {len(surplus)}"
                + (f": {sample(wrong_stored + surplus)}" if wrong_stored or surplus else ""),
            )
        )
        checks += await _verify_index(cluster, watcher, dataset, scorable, scores)
    finally:
        await client.close()
    return checks


async def _verify_index(
    cluster: Cluster,
    watcher: Watcher,
    dataset: Dataset,
    scorable: list[Innovation],
    scores: dict[str, InnovationScore],
) -> list[Check]:
    """Each region's index: incremental = recomputed from the stored innovations = computed here from the
    messages sent = the last one announced; and each unit's innovations counted once."""
    announced: dict[str, RegionIndexUpdated] = {}
    for event in watcher.of("region.index.updated"):
        update = RegionIndexUpdated.model_validate(event.body)
        key = f"{update.region_code}/{update.year}"
        if key not in announced or announced[key].version < update.version:
            announced[key] = update
    rubric = load_rubric(YEAR)
    rows, index_ok, compliance_wrong = [], True, []
    async with scoring_library(cluster.ferret.url, DATABASES["scoring"]) as scoring:
        for region in dataset.regions:
            mine = [i for i in scorable if i.region_code == region]
            spd = RegionProfile.model_validate_json(json.dumps(dataset.profiles[(region, YEAR)][-1])).spd
            expected = compute_index(full_totals(scores[i.external_id].contribution() for i in mine), spd, rubric)
            incremental, recomputed = await scoring.recomputed_index(region, YEAR)
            last = announced.get(f"{region}/{YEAR}")
            last_iid = last.iid if last else None
            index_ok = (
                index_ok
                and incremental == recomputed == expected
                and (last_iid, last and last.n)
                == (
                    expected.iid,
                    expected.n,
                )
            )
            rows.append(
                f"{region}: sent {expected.iid} (n {expected.n}), incremental {incremental.iid}, "
                f"recomputed {recomputed.iid}, announced {last_iid}"
            )
            counted = {row["unit_code"]: row for row in await scoring.compliance(region, YEAR)}
            for unit in dataset.units[region]:
                theirs = [i for i in mine if i.unit_code == unit]
                want = (len(theirs), sum(scores[i.external_id].eligible for i in theirs))
                row = counted.get(unit, {})
                if (row.get("innovations"), row.get("eligible")) != want:
                    compliance_wrong.append(f"{unit}: {row.get('innovations')}/{row.get('eligible')} not {want}")
    return [
        Check(
            "each region's index = recomputed from scratch = from the messages sent = announced",
            index_ok,
            "; ".join(rows),
        ),
        Check(
            "each unit's innovations and eligible ones counted once",
            not compliance_wrong,
            f"{sum(len(units) for units in dataset.units.values())} units; wrong {len(compliance_wrong)}"
            + (f": {sample(compliance_wrong)}" if compliance_wrong else ""),
        ),
    ]


async def _verify_emails(
    cluster: Cluster, watcher: Watcher, load: Load, scored: dict[tuple[str, int], list[Seen]]
) -> list[Check]:
    """Every email that should exist received exactly once by dedupe key, and no other: receipts and rejections
    from the messages sent; a score email for each innovation's latest revision scored (an earlier revision's
    may have one: its window had passed); the office's index emails each true to the one before, the last one
    telling the latest state (`inovda_notification.domain.expectations`)."""
    expected = load.dataset.expected_emails()
    scores = score_emails_expected(
        (events[0].body["source"], external_id, revision) for (external_id, revision), events in scored.items()
    )
    for key in scores.required:
        expected[key] += 1
    received = Counter(item.dedupe_key for item in cluster.mail.received)
    missing = [key for key in expected if key not in received]
    doubled = {key: count for key, count in received.items() if count > 1}
    unexpected = [
        key
        for key in received
        if key not in expected and key not in scores.allowed and not key.startswith("predicate:")
    ]
    failed = [str(event.body.get("dedupe_key")) for event in watcher.of("notification.failed")]
    problems = list(dict.fromkeys(missing + list(doubled) + unexpected + failed))
    office = _office_problems(cluster, watcher)
    evidence = _doubled_emails(cluster, load, doubled)
    stored = await _stored_emails(cluster, list(doubled) + missing)
    for item in evidence:
        item["stored"] = stored.get(item["dedupe_key"])
    evidence += [{"dedupe_key": key, "missing": True, "stored": stored.get(key)} for key in missing]
    unconfirmed = [
        str(event.body.get("dedupe_key"))
        for event in watcher.of("notification.sent")
        if event.body.get("confirmed") is False
    ]
    near = Counter(
        item["next_notification_fault"] for item in evidence if (item.get("fault_after_first_copy_seconds") or 99) <= 15
    )
    explained = (
        f"{sum(near.values())} of {len(doubled)} doubled: first copy at most 15 s before a notification replica was "
        f"gone ({', '.join(f'{kind} {count}' for kind, count in sorted(near.items())) or 'none'})"
        if doubled
        else ""
    )
    return [
        Check(
            "every email that should exist received exactly once (by dedupe key), none other",
            not problems,
            f"{sum(expected.values())} expected, {len(cluster.mail.received)} received; missing {len(missing)}, "
            f"more than once {len(doubled)}, unexpected {len(unexpected)}, failed {len(failed)}"
            + (f": {sample(problems)}" if problems else "")
            + (f"; {explained}" if explained else "")
            + (f"; recorded as sent without the server's answer {len(unconfirmed)}" if unconfirmed else ""),
            lost=len(missing),
            duplicated=sum(count - 1 for count in doubled.values()),
            evidence=evidence,
        ),
        Check(
            "the office's index emails in order, each true to the one before, the last one the latest state",
            not office,
            f"{sum(1 for key in received if key.startswith('predicate:'))} index emails"
            + (f": {sample(office)}" if office else ""),
        ),
    ]


def _office_problems(cluster: Cluster, watcher: Watcher) -> list[str]:
    """Each region-year's index emails, in the order the mail server received them, against its versions."""
    announced: dict[tuple[str, int], dict[int, RegionIndexUpdated]] = defaultdict(dict)
    for event in watcher.of("region.index.updated"):
        update = RegionIndexUpdated.model_validate(event.body)
        announced[(update.region_code, update.year)][update.version] = update
    problems = []
    for (region_code, year), versions in sorted(announced.items()):
        prefix = f"predicate:{region_code}/{year}:v"
        emails = [
            (item.dedupe_key, item.part("plain"))
            for item in cluster.mail.received
            if item.dedupe_key.startswith(prefix)
        ]
        problems += index_email_problems(versions, emails)
    return problems


async def _verify_portal(cluster: Cluster, watcher: Watcher, dataset: Dataset) -> list[Check]:
    """The portal's read model, built from the same events by two replicas through the same faults: every
    innovation at its latest revision and that revision's score, every region at its last announced index."""
    client = connect(cluster.ferret.url)
    try:
        store = PortalStore(client[DATABASES["portal"]])
        wrong = []
        for region in dataset.regions:
            seen = await store.region_year(region, YEAR)
            for innovation in dataset.innovations.values():
                if innovation.region_code != region or innovation.year != YEAR:
                    continue
                summary = seen.innovations.get(f"{_report(innovation.revisions[-1]).source}/{innovation.external_id}")
                latest = len(innovation.revisions)
                if summary is None or (summary.revision, summary.scored_revision) != (latest, latest):
                    wrong.append(f"{innovation.external_id}: {summary and (summary.revision, summary.scored_revision)}")
            versions = [
                event.body["version"]
                for event in watcher.of("region.index.updated")
                if (event.body["region_code"], event.body["year"]) == (region, YEAR)
            ]
            if versions and (seen.index is None or seen.index.version != max(versions)):
                wrong.append(f"{region}: index v{seen.index and seen.index.version}, announced v{max(versions)}")
    finally:
        await client.close()
    return [
        Check(
            "the portal's read model: each innovation at its latest revision and score, each region at its last index",
            not wrong,
            f"{len(wrong)} wrong" + (f": {sample(wrong)}" if wrong else ""),
            lost=len(wrong),
        )
    ]


async def _verify_queues(cluster: Cluster, watcher: Watcher) -> list[Check]:
    """The work queues empty, and nothing dead-lettered: every message here is one a service can handle (a year
    without a rubric is rejected at intake), so a dead letter is a message lost to a fault."""
    depths = await cluster.rabbit.queue_depths()
    busy = {spec.name: depths.get(spec.name) for spec in SERVICE_QUEUES if depths.get(spec.name) != 0}
    letters = await list_dead_letters(cluster.rabbit.url(), limit=100_000)
    # When each dead letter died, after how many attempts, why, and how many copies of its message were published.
    evidence = [
        {
            "queue": letter.queue,
            "message": _letter_identity(letter.routing_key, letter.body),
            "message_id": letter.message_id,
            "died_at": letter.died_at,
            "attempts": letter.attempts,
            "reason": letter.reason[:300],
            "copies_published": watcher.publications.get(letter.message_id or "", 0),
        }
        for letter in letters
    ]
    found = [f"{letter.queue} {_letter_identity(letter.routing_key, letter.body)}" for letter in letters]
    return [
        Check("work queues empty at the end", not busy, f"{busy or 'all 0'}"),
        Check(
            f"nothing dead-lettered (year {NO_RUBRIC_YEAR} has no rubric: rejected at intake)",
            not letters,
            f"{len(letters)} found" + (f": {sample(found)}" if found else ""),
            lost=len(letters),
            evidence=evidence,
        ),
    ]


def _report(body: dict[str, Any]) -> InnovationReport:
    """The report as submission reads it (from JSON: the contract's types are strict)."""
    return InnovationReport.model_validate_json(json.dumps(body))


def _letter_identity(routing_key: str, body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    return _event_identity(routing_key, document) or f"{routing_key} {body[:80]!r}"


def _event_identity(routing_key: str, document: Any) -> str:
    """What an event is about: the innovation and revision, or the region, year and profile version."""
    try:
        if routing_key == "innovation.submitted":
            return f"innovation.submitted {document['innovation']['external_id']} r{document['revision']}"
        if routing_key == "region.profile.updated":
            profile = document["profile"]
            return f"region.profile.updated {profile['region_code']}/{profile['year']} v{document['version']}"
    except (KeyError, TypeError):
        pass
    return ""


async def _stored_emails(cluster: Cluster, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The notification service's record of these emails (status, attempts, times), to tell how a copy came."""
    if not keys:
        return {}
    client = connect(cluster.ferret.url)
    try:
        fields = (
            "status",
            "attempts",
            "confirmed",
            "created_at",
            "committing_at",
            "committed_by",
            "sent_at",
            "last_error",
        )
        store = NotificationStore(client[DATABASES["notification"]])
        views = NotificationViews(store)
        held_fields = ("owner", "due_at", "superseded_by", "created_at")
        found: dict[str, dict[str, Any]] = {}
        for key in keys:
            email = await views.email(key)
            if email is not None:
                found[key] = {name: str(value) for name in fields if (value := getattr(email, name)) is not None}
            if (held := await store.held_document(key)) is not None:  # a score email waiting out its window
                found.setdefault(key, {})["held"] = {name: str(held.get(name)) for name in held_fields}
        return found
    finally:
        await client.close()


def _doubled_emails(cluster: Cluster, load: Load, doubled: dict[str, int]) -> list[dict[str, Any]]:
    """For each email received more than once: when its copies arrived, and the first fault of a notification
    replica that ended after the first copy (SIGKILL, or the end of a SIGTERM's drain). A copy that follows
    such a fault within seconds is the gap the README documents: the SMTP server accepted the email, and the
    process was gone before it marked it sent."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    for item, at in zip(cluster.mail.received, cluster.mail.arrived, strict=False):
        if item.dedupe_key in doubled:
            arrivals[item.dedupe_key].append(at)
    faults = sorted((ended, kind) for service, kind, _, ended in load.replica_faults if service == "notification")
    evidence = []
    for key, times in sorted(arrivals.items()):
        # From a second before the copy's arrival: the server notes the time only after the client sent it all.
        after = next(((ended, kind) for ended, kind in faults if ended >= times[0] - 1.0), None)
        evidence.append(
            {
                "dedupe_key": key,
                "arrived_at": [round(at - load.t0, 2) for at in times],
                "next_notification_fault": after[1] if after else None,
                "fault_after_first_copy_seconds": round(after[0] - times[0], 2) if after else None,
            }
        )
    return evidence
