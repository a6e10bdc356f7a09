"""The scoring commands: score a revision, keep the region and unit aggregates, announce what changed.

Each handler works under its region-year's lock (a unit's lock for a unit): load, let the domain decide,
store, record the events in the outbox, and publish them once the lock is released, before its message is
acknowledged. A change's events are recorded under the key of the message that made it
(`Outbox.record_delivered`): the message's redelivery reads them there and publishes them again. The
queries are in `views`.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from inovda_shared.contracts.events import InnovationSubmitted, InnovationVerified, RegionProfileUpdated, UnitRegistered
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.outbox import OutboxRelay, PendingBatch

from .adapters.metrics import INDEX_ANNOUNCEMENTS, REVIEW_ROUNDS, SCORINGS
from .adapters.store import ScoringStore
from .domain import InnovationScore, Rubric, load_rubric, plan_path, score_innovation
from .domain.journal import Journal, journal_outbox_key
from .domain.placement import Placement, compliance_key, innovation_key, region_key
from .domain.region import (
    Candidate,
    Region,
    by_potential,
    index_announcement,
    index_content,
    member_id,
    profiled,
)
from .domain.revision import Revised, ScoredRevision

Clock = Callable[[], dt.datetime]

SCORED_CANDIDATES_KEPT = 4096  # about 20 MB: the candidates of some 100 busy regions
FINISHED_JOURNALS_KEPT = 50_000  # region-year -> the last journal this process finished: a few MB


class NotScoredYetError(Exception):
    """A review round for an innovation scoring has not scored yet: retried until its revision arrives."""


@dataclass(frozen=True)
class Incoming:
    """The identity of the event being handled: its idempotency key and correlation id, and whether an earlier
    handling of this delivery may have stopped short of publishing (`inovda_shared.consumer.handled_before`)."""

    key: str
    correlation_id: str
    handled_before: bool = False


@dataclass(frozen=True)
class _Announcement:
    """A `region.index.updated` ready to record, and what it says (the region keeps it as its last)."""

    event: OutgoingEvent
    content: Mapping[str, Any]


class ScoringService:
    def __init__(
        self, store: ScoringStore, relay: OutboxRelay, clock: Clock, path_candidates: int, path_steps: int
    ) -> None:
        self._store = store
        self._relay = relay
        self._clock = clock
        self._path_candidates = path_candidates
        self._path_steps = path_steps
        # The same candidates come back event after event: their scores are kept, the most recent ones.
        self._candidate_scores: LRUCache[tuple[str, int, int, int], InnovationScore] = LRUCache(SCORED_CANDIDATES_KEPT)
        # A region's journal is written once under its number (the region's version, under its lock), so one
        # this process finished is finished for good: its next change skips reading the innovation to tell.
        self._finished_journals: LRUCache[str, int] = LRUCache(FINISHED_JOURNALS_KEPT)

    async def on_unit_registered(self, event: UnitRegistered, incoming: Incoming) -> None:
        unit = event.unit
        async with self._store.locks.hold(f"unit:{unit.region_code}/{unit.unit_code}"):
            await self._store.save_unit(unit, event.version)

    async def on_profile_updated(self, event: RegionProfileUpdated, incoming: Incoming) -> None:
        profile = event.profile
        load_rubric(profile.year)  # an unknown year fails here, before anything is stored
        key = region_key(profile.region_code, profile.year)
        async with self._store.locks.hold(f"region:{key}"):
            stored = await self._store.region(key)
            region = profiled(stored, profile, event.version)
            if region is not None:
                await self._store.save_profile(region, create=stored is None)
            announcement = await self._announce_index(region or stored, incoming)
        await self._publish([announcement])

    async def on_innovation_submitted(self, event: InnovationSubmitted, incoming: Incoming) -> None:
        report = event.innovation
        rubric = load_rubric(report.year)
        key = innovation_key(report.source, report.external_id)
        placement = Placement(report.region_code, report.year, report.unit_code)

        async with self._store.locks.hold(f"region:{placement.region}"):
            region = await self._store.region(placement.region)
            batches = [await self._finish_left_journal(region)]
            stored = await self._store.innovation(key)
            # An older revision arriving late (the newer one counts), or this very revision again (its change
            # and events are stored; a redelivery publishes them again) changes nothing.
            if stored is None or stored.revision < event.revision:
                previous = stored.placement if stored else None
                placement.refuse_move_from(previous, key)
                score = score_innovation(report, rubric)
                self._remember_candidate_score(report.source, report.external_id, event.revision, rubric, score)
                revision = ScoredRevision.of(
                    event,
                    score,
                    rubric,
                    previous=previous,
                    scored_at=self._clock(),
                    verification=stored.verification if stored else None,
                )
                journal = await self._commit(region, Revised(revision, stored), incoming)
                batches.append(await self._finish(journal))
                SCORINGS.labels(eligible=str(score.eligible).lower()).inc()
            else:
                batches.append(await self._made_before(incoming, batches))
        await self._publish(batches)

    async def on_innovation_verified(self, event: InnovationVerified, incoming: Incoming) -> None:
        """Take a review round into the innovation's verified figures, and its region's."""
        rubric = load_rubric(event.year)
        key = innovation_key(event.source, event.external_id)
        async with self._store.locks.hold(f"region:{region_key(event.region_code, event.year)}"):
            region = await self._store.region(region_key(event.region_code, event.year))
            batches = [await self._finish_left_journal(region)]
            stored = await self._store.innovation(key)
            if stored is None:
                raise NotScoredYetError(f"innovation {key} is not scored here yet (its review round {event.version})")
            if stored.placement.region != region_key(event.region_code, event.year):
                raise ValueError(f"review round {event.version} of {key} names another region-year than it counts in")
            # The round judged one revision; its decisions hold for whichever revision is stored where that one
            # claims the same (`domain.verification`), so a round arriving after a newer revision still counts.
            verified = stored.verified_by(event, rubric, scored_at=self._clock())
            if verified is not None:
                journal = await self._commit(region, Revised(verified, stored), incoming)
                batches.append(await self._finish(journal))
                REVIEW_ROUNDS.inc()
            else:
                batches.append(await self._made_before(incoming, batches))
        await self._publish(batches)

    # --- the steps of a change ---------------------------------------------------------------------

    async def _commit(self, stored: Region | None, revised: Revised, incoming: Incoming) -> Journal:
        """Count the new revision in its region, in the region's one write that also records it as a journal."""
        placement = revised.revision.placement
        region = stored or Region(placement.region_code, placement.year)
        change = region.counting(revised, keep=2 * self._path_candidates)
        scored = revised.revision.announcement()
        events = [OutgoingEvent.of(scored, scored.routing_key, revised.revision.message_id, incoming.correlation_id)]
        announcement = self._index_announcement(change.region, incoming.correlation_id)
        if announcement is not None:
            events.append(announcement.event)
        for counts in change.compliance:
            unit = compliance_key(counts.region_code, counts.year, counts.unit_code)
            message_id = f"{counts.routing_key}:{unit}:v{counts.version}"
            events.append(OutgoingEvent.of(counts, counts.routing_key, message_id, incoming.correlation_id))
        journal = Journal(
            change.region.key,
            change.region.version,
            revised.revision,
            tuple(events),
            incoming.correlation_id,
            incoming.key,
        )
        announced = announcement.content if announcement is not None else None
        await self._store.commit_change(change.recorded(journal, announced), create=stored is None)
        return journal

    async def _finish_left_journal(self, region: Region | None) -> PendingBatch | None:
        """Finish the last change of the region if its handler died before it was done."""
        if region is None or region.journal is None:
            return None
        journal = region.journal
        if self._finished_journals.get(journal.region) == journal.seq:
            return None
        if await self._store.applied_seq(journal.innovation.key) >= journal.seq:
            self._finished_journals[journal.region] = journal.seq
            return None
        return await self._finish(journal)

    async def _finish(self, journal: Journal) -> PendingBatch | None:
        """Record the journal's events and bring the innovation's document up to it.

        Idempotent: the record is kept once under its key, and the innovation's document, written last,
        remembers the journal it applied. A journal finished here may be another message's, left by a handler
        that died: its events are published again, that message's redelivery publishing them once more.
        """
        events = list(journal.events)
        if journal.message_key is None:  # written before journals named their message: the relay's to recover
            batch = await self._store.outbox.record(journal.outbox_key, events)
        else:
            batch = await self._store.outbox.record_delivered(journal.outbox_key, events)
        await self._store.replace_innovation(journal.innovation, journal.seq)
        self._finished_journals[journal.region] = journal.seq
        return batch

    async def _made_before(self, incoming: Incoming, batches: Iterable[PendingBatch | None]) -> PendingBatch | None:
        """The events of the change this message made before, to publish again when an earlier handling of it
        may have stopped short of publishing them (None: none, or a copy's first delivery)."""
        key = journal_outbox_key(incoming.key)
        if not incoming.handled_before or any(batch is not None and batch.key == key for batch in batches):
            return None
        return await self._store.outbox.recorded(key)

    # --- the region's index ------------------------------------------------------------------------

    def _index_announcement(self, region: Region, correlation_id: str) -> _Announcement | None:
        """A `region.index.updated` for the region as it is now, when its figures or path changed."""
        rubric = load_rubric(region.year)
        candidates = by_potential(region.kept(self._path_candidates))
        state = region.state(self._candidate_score(candidate, rubric) for candidate in candidates)
        if region.verifying:
            verified = region.verified_state(self._candidate_score(item, rubric, verified=True) for item in candidates)
            plan = plan_path(verified, rubric, max_steps=self._path_steps)
            figures = verified.figures(rubric)
            content = index_content(state.figures(rubric), rubric, plan, figures, region.review.review())
        else:
            plan = plan_path(state, rubric, max_steps=self._path_steps)
            content = index_content(state.figures(rubric), rubric, plan)
        event = index_announcement(region, content)
        if event is None:
            return None
        INDEX_ANNOUNCEMENTS.inc()
        message_id = f"{event.routing_key}:{region.key}:v{region.version}"
        return _Announcement(OutgoingEvent.of(event, event.routing_key, message_id, correlation_id), content)

    async def _announce_index(self, region: Region | None, incoming: Incoming) -> PendingBatch | None:
        """Record a `region.index.updated` when the region's figures or path changed (caller holds its lock)."""
        if region is None:
            return None
        announcement = self._index_announcement(region, incoming.correlation_id)
        if announcement is None:
            return None
        batch = await self._store.outbox.record(announcement.event.message_id, [announcement.event])
        await self._store.mark_region_announced(region.key, announcement.content)
        return batch

    def _remember_candidate_score(
        self, source: str, external_id: str, revision: int, rubric: Rubric, score: InnovationScore
    ) -> None:
        """The revision just scored is its candidate's claimed score: the index announcement need not score it again
        from the candidate's facts."""
        self._candidate_scores[_score_key(member_id(source, external_id), revision, rubric)] = score

    def _candidate_score(self, candidate: Candidate, rubric: Rubric, *, verified: bool = False) -> InnovationScore:
        key = _score_key(candidate.member, candidate.revision, rubric, candidate.round if verified else None)
        score = self._candidate_scores.get(key)
        if score is None:
            score = candidate.verified_score(rubric) if verified else candidate.score(rubric)
            self._candidate_scores[key] = score
        return score

    async def _publish(self, batches: Iterable[PendingBatch | None]) -> None:
        """Publish what the handler recorded, after its lock is released: a failure fails the handling, and
        the message comes back (`OutboxRelay.publish`)."""
        for batch in batches:
            if batch is not None:
                await self._relay.publish(batch)


def _score_key(
    member: str, revision: int, rubric: Rubric, review_round: int | None = None
) -> tuple[str, int, int, int]:
    """A candidate's score in `_candidate_scores`: its claimed score (no review round), or the verified one of a
    review round."""
    return (member, revision, -1 if review_round is None else review_round, rubric.year)
