"""The verified figures: only what the verifier accepted counts, decisions reset when what they judged changes,
and the verified index never exceeds the claimed one."""

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from inovda_cli import samples
from inovda_scoring.domain import compute_index, full_totals, load_rubric, score_innovation
from inovda_scoring.domain.maturity import InnovationFacts
from inovda_scoring.domain.planner import plan_path
from inovda_scoring.domain.region import Region, index_content
from inovda_scoring.domain.revision import Revised, ScoredRevision
from inovda_scoring.domain.verification import (
    Holding,
    Verification,
    holding,
    review_of,
    verified_reasons,
    verified_score,
)
from inovda_shared.contracts.events import (
    EligibilityVerdict,
    InnovationSubmitted,
    InnovationVerified,
    VerifiedDecision,
)
from inovda_shared.contracts.intake import InnovationReport, claim_fingerprint, eligibility_fingerprints

from . import builders

RUBRIC = load_rubric(2026)
AT = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)


def report(external_id: str = "INV-1", **overrides: Any) -> InnovationReport:
    return InnovationReport.model_validate_json(json.dumps(samples.innovation(external_id, **overrides)))


def fingerprints(item: InnovationReport) -> dict[str, str]:
    return {key: claim_fingerprint(claim) for key, claim in item.indicators.items()}


def decision(item: InnovationReport, indicator_id: str, kind: str = "accepted", **extra: Any) -> VerifiedDecision:
    claim = item.indicators[indicator_id]
    return VerifiedDecision(
        decision=kind,
        judged_level=claim.level,
        judged_fingerprint=claim_fingerprint(claim),
        revision=1,
        round=1,
        verifier="verifikator",
        **extra,
    )


def decided(item: InnovationReport, **kinds: str) -> Holding:
    decisions = {}
    for indicator_id in item.indicators:
        kind = kinds.get(f"i{indicator_id}", "accepted")
        extra = (
            {"level": 1}
            if kind == "accepted_lower"
            else {"reason": "evidence_missing"}
            if kind == "not_accepted"
            else {}
        )
        decisions[indicator_id] = decision(item, indicator_id, kind, **extra)
    return Holding(decisions, {})


def test_nothing_counts_before_it_is_reviewed() -> None:
    item = report()
    claimed = score_innovation(item, RUBRIC)
    verified = verified_score(InnovationFacts.from_report(item), Holding(), RUBRIC)
    assert claimed.eligible
    assert claimed.maturity > 0
    assert (verified.maturity, verified.eligible) == (0, False)
    reasons = verified_reasons(claimed, Holding(), RUBRIC)
    assert "Indikator wajib 16 (Regulasi inovasi daerah) belum diverifikasi." in reasons


def test_accepted_counts_as_claimed_a_lower_level_as_given_and_a_refusal_nothing() -> None:
    item = report()
    facts = InnovationFacts.from_report(item)
    claimed = score_innovation(item, RUBRIC)
    assert verified_score(facts, decided(item), RUBRIC).maturity == claimed.maturity
    lower = verified_score(facts, decided(item, i17="accepted_lower"), RUBRIC)
    assert lower.maturity == claimed.maturity - RUBRIC.sid["17"].weight * (item.indicators["17"].level - 1)
    assert lower.eligible
    refused = decided(item, i35="not_accepted")
    assert verified_score(facts, refused, RUBRIC).maturity == claimed.maturity - claimed.indicators["35"].score
    assert not verified_score(facts, refused, RUBRIC).eligible  # 35 is mandatory
    assert (
        "Indikator wajib 35 (Video inovasi) tidak diterima pemverifikasi: data dukung tidak ada."
        in verified_reasons(claimed, refused, RUBRIC)
    )


def test_a_new_revision_resets_the_decisions_on_what_it_changed_and_keeps_the_others() -> None:
    first = report()
    all_accepted = decided(first)
    verification = Verification(all_accepted.indicators, {}, round=1)
    indicators = samples.innovation("INV-1")["indicators"]
    indicators["17"] = {"level": 3, "evidence": samples.evidence("SK tim yang baru")}
    second = report(indicators=indicators)
    kept = holding(verification, fingerprints(second), eligibility_fingerprints(second))
    assert set(kept.indicators) == set(first.indicators) - {"17"}
    review = review_of(verification, kept, fingerprints(second))
    assert (review.decided, review.total, review.round) == (len(first.indicators) - 1, len(first.indicators), 1)


def test_an_eligibility_item_not_accepted_makes_it_not_count() -> None:
    item = report()
    verdict = EligibilityVerdict(
        decision="not_accepted",
        reason="other",
        note="Rancang bangun disalin dari inovasi lain",
        judged_fingerprint=eligibility_fingerprints(item)["design"],
        revision=1,
        round=1,
        verifier="verifikator",
    )
    decisions = Holding(decided(item).indicators, {"design": verdict})
    verified = verified_score(InnovationFacts.from_report(item), decisions, RUBRIC)
    assert not verified.eligible
    claimed = score_innovation(item, RUBRIC)
    assert "Rancang bangun tidak diterima pemverifikasi: alasan lain (Rancang bangun disalin dari inovasi lain)." in (
        verified_reasons(claimed, decisions, RUBRIC)
    )


def test_a_later_round_replaces_what_it_decides_and_a_round_taken_in_changes_nothing() -> None:
    item = report()
    first = InnovationVerified(
        version=1, source="e-inovasi", external_id="INV-1", region_code="64.02", unit_code="DINKES", year=2026,
        revision=1, verifier="a", indicators={"16": decision(item, "16")}, verified_at=AT,
    )  # fmt: skip
    refusal = decision(item, "16", "not_accepted", reason="evidence_unreadable")
    second = first.model_copy(update={"version": 2, "indicators": {"16": refusal, "17": decision(item, "17")}})
    verification = Verification().with_round(first)
    assert verification is not None
    after = verification.with_round(second)
    assert after is not None
    assert after.indicators["16"].decision == "not_accepted"
    assert set(after.indicators) == {"16", "17"}
    assert after.with_round(first) is None
    assert after.with_round(second) is None


def scored(item: InnovationReport, revision: int, before: ScoredRevision | None = None) -> ScoredRevision:
    event = InnovationSubmitted(revision=revision, innovation=item, submitted_at=AT)
    score = score_innovation(item, RUBRIC)
    verification = before.verification if before else None
    return ScoredRevision.of(event, score, RUBRIC, previous=None, scored_at=AT, verification=verification)


def review_round(item: InnovationReport, number: int, revision: int, **kinds: str) -> InnovationVerified:
    decisions = {
        indicator_id: decision(item, indicator_id, kind, **_extra(kind)).model_copy(
            update={"round": number, "revision": revision}
        )
        for indicator_id, kind in ((key[1:], kind) for key, kind in kinds.items())
    }
    return InnovationVerified(
        version=number, source=item.source, external_id=item.external_id, region_code=item.region_code,
        unit_code=item.unit_code, year=item.year, revision=revision, verifier="verifikator",
        indicators=decisions, verified_at=AT,
    )  # fmt: skip


def _extra(kind: str) -> dict[str, Any]:
    if kind == "accepted_lower":
        return {"level": 1}
    if kind == "not_accepted":
        return {"reason": "evidence_does_not_support_level"}
    return {}


def test_a_region_counts_the_verified_figures_beside_the_claimed_ones_and_a_new_revision_resets_a_changed_claim() -> (
    None
):
    item = report()
    first = scored(item, 1)
    assert (first.verified.maturity, first.verified.eligible) == (0, False)  # nothing reviewed yet
    region = Region(item.region_code, item.year).counting(Revised(first, None), keep=8).region
    assert (region.totals.n, region.verified_totals.n, region.verifying) == (1, 0, False)

    every_one_accepted = {f"i{key}": "accepted" for key in item.indicators}
    reviewed = first.verified_by(review_round(item, 1, 1, **every_one_accepted), RUBRIC, AT)
    assert reviewed is not None
    assert first.verified_by(review_round(item, 0, 1, i16="accepted"), RUBRIC, AT) is None
    assert (reviewed.verified.maturity, reviewed.verified.eligible) == (first.maturity, True)
    assert reviewed.message_id.endswith(":r1:v1")
    region = region.counting(Revised(reviewed, first), keep=8).region
    assert (region.verified_totals.sum_maturity, region.verified_totals.n) == (first.maturity, 1)
    assert (region.review.decided, region.review.total, region.verifying) == (5, 5, True)

    indicators = samples.innovation("INV-1")["indicators"]
    indicators["17"] = {"level": 3, "evidence": samples.evidence("SK tim yang baru")}
    second = scored(report(indicators=indicators), 2, before=reviewed)
    assert set(second.verified.decisions) == set(item.indicators) - {"17"}
    assert second.verified.maturity == first.maturity - first.detail["indicators"]["17"]["score"]
    assert not second.verified.eligible  # 17 is mandatory: not counted until it is reviewed again
    region = region.counting(Revised(second, reviewed), keep=8).region
    assert (region.review.decided, region.review.total, region.review.rounds) == (4, 5, 1)
    assert (region.verified_totals.sum_maturity, region.verified_totals.n) == (0, 0)
    assert (region.totals.sum_maturity, region.totals.n) == (second.maturity, 1)


def test_the_index_names_the_points_at_risk_and_plans_on_the_verified_figure_once_verifying() -> None:
    item = report()
    first = scored(item, 1)
    refused = first.verified_by(review_round(item, 1, 1, i16="accepted", i35="not_accepted"), RUBRIC, AT)
    assert refused is not None
    region = Region(item.region_code, item.year).counting(Revised(first, None), keep=8).region
    region = region.counting(Revised(refused, first), keep=8).region
    candidates = list(region.candidates.values())
    claimed = region.state(candidate.score(RUBRIC) for candidate in candidates)
    verified = region.verified_state(candidate.verified_score(RUBRIC) for candidate in candidates)
    plan = plan_path(verified, RUBRIC)
    content = index_content(claimed.figures(RUBRIC), RUBRIC, plan, verified.figures(RUBRIC), region.review.review())
    assert content["path_on"] == "verified"
    assert content["verified"]["n"] == 0
    assert content["verified"]["iid"] < content["iid"]
    assert content["verified"]["points_at_risk"] == round(content["iid"] - content["verified"]["iid"], 2)
    assert content["review"] == {"decided": 2, "total": 5, "round": 1}
    assert content["path"] == [step.model_dump() for step in plan.steps]


KINDS = st.sampled_from(["accepted", "accepted_lower", "not_accepted", "undecided"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from(["16", "17", "18", "19", "31", "32", "33", "35"]), KINDS), st.booleans()
        ),
        min_size=1,
        max_size=16,
    ),
    st.integers(0, 3),
)
def test_the_verified_index_never_exceeds_the_claimed_one(drawn: list[tuple[dict[str, str], bool]], spd: int) -> None:
    """Per innovation always; for the region whenever the divisor is the rubric's minimum (n <= D) or no
    innovation stops counting (the exception: see the next test)."""
    claimed_scores, verified_scores = [], []
    for number, (kinds, penerapan) in enumerate(drawn):
        item = report(stage="penerapan" if penerapan else "uji_coba", external_id=f"INV-{number}")
        decisions = {}
        for indicator_id in item.indicators:
            kind = kinds.get(indicator_id, "accepted")
            if kind == "undecided":
                continue
            decisions[indicator_id] = decision(item, indicator_id, kind, **_extra(kind))
        claimed = score_innovation(item, RUBRIC)
        verified = verified_score(claimed.facts, Holding(decisions, {}), RUBRIC)
        assert verified.maturity <= claimed.maturity
        assert verified.eligible <= claimed.eligible
        claimed_scores.append(claimed)
        verified_scores.append(verified)
    levels = dict.fromkeys(RUBRIC.spd, spd)
    claimed_index = compute_index(full_totals(s.contribution() for s in claimed_scores), levels, RUBRIC)
    verified_index = compute_index(full_totals(s.contribution() for s in verified_scores), levels, RUBRIC)
    if claimed_index.n <= RUBRIC.min_divisor or verified_index.n == claimed_index.n:
        assert verified_index.iid <= claimed_index.iid


def test_above_the_minimum_divisor_a_weak_innovation_refused_can_raise_the_verified_index() -> None:
    """The rubric divides the sum by max(D, n): with more than D innovations counting, one far below the
    average that stops counting raises the average. The verified index then exceeds the claimed one, as the
    national assessment's would (its points at risk are negative); the property above excludes this case."""
    strong = [builders.report(f"INV-{number}", levels=builders.levels_at(3)) for number in range(RUBRIC.min_divisor)]
    weak = builders.report("INV-LEMAH", levels=builders.MANDATORY_AT_LEVEL_1)
    strong_scores = [score_innovation(item, RUBRIC) for item in strong]
    weak_claimed = score_innovation(weak, RUBRIC)
    refusal = decision(weak, "16", "not_accepted", reason="evidence_missing")
    weak_verified = verified_score(weak_claimed.facts, Holding({"16": refusal}, {}), RUBRIC)
    assert weak_claimed.eligible
    assert not weak_verified.eligible
    levels = dict.fromkeys(RUBRIC.spd, 2)
    claimed = compute_index(full_totals(s.contribution() for s in [*strong_scores, weak_claimed]), levels, RUBRIC)
    verified = compute_index(full_totals(s.contribution() for s in [*strong_scores, weak_verified]), levels, RUBRIC)
    assert (claimed.n, verified.n) == (RUBRIC.min_divisor + 1, RUBRIC.min_divisor)
    assert verified.iid > claimed.iid
