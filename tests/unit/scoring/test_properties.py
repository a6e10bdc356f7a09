"""Properties that hold for every rubric year, whatever the region looks like."""

import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from inovda_scoring.domain.index import Contribution, RegionTotals, TotalsDelta, compute_index, full_totals
from inovda_scoring.domain.maturity import Claim, InnovationFacts, score_facts
from inovda_scoring.domain.planner import plan_path
from inovda_scoring.domain.rubric import Rubric, available_years, load_rubric
from inovda_scoring.domain.whatif import RegionState, SetSidClaim, SetSpdLevel, what_if
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, SID_INDICATOR_IDS, SPD_INDICATOR_IDS

MANDATORY = ("16", "17", "32", "33", "35")

rubrics = st.sampled_from(available_years()).map(load_rubric)
levels = st.integers(min_value=1, max_value=3)
spd_levels = st.dictionaries(st.sampled_from(SPD_INDICATOR_IDS), levels)
claims = st.builds(Claim, level=levels, has_evidence=st.booleans())


@st.composite
def region_totals(draw: st.DrawFn) -> RegionTotals:
    n = draw(st.integers(min_value=0, max_value=400))
    affairs = draw(st.frozensets(st.sampled_from(BASIC_SERVICE_AFFAIRS))) if n else frozenset()
    return RegionTotals(
        sum_maturity=draw(st.integers(min_value=0, max_value=111 * n)),
        n=n,
        affair_counts={affair: draw(st.integers(min_value=1, max_value=n)) for affair in affairs},
    )


@st.composite
def innovation_facts(draw: st.DrawFn, external_id: str) -> InnovationFacts:
    claimed = draw(st.dictionaries(st.sampled_from(SID_INDICATOR_IDS), claims))
    if draw(st.booleans()):  # half of them complete their mandatory indicators, so that many are eligible
        claimed.update({indicator_id: Claim(level=draw(levels), has_evidence=True) for indicator_id in MANDATORY})
    affairs = st.sampled_from([*BASIC_SERVICE_AFFAIRS, "pertanian"])
    return InnovationFacts(
        external_id=external_id,
        title=f"Inovasi {external_id}",
        unit_code="UNIT",
        stage=draw(st.sampled_from(("penerapan", "penerapan", "uji_coba"))),
        applied_on=draw(st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31))),
        design_words=draw(st.integers(min_value=250, max_value=350)),
        urusan=tuple(draw(st.lists(affairs, min_size=1, max_size=3, unique=True))),
        claims=claimed,
    )


@st.composite
def region_states(draw: st.DrawFn, rubric: Rubric) -> RegionState:
    """Some innovations given in full, on top of totals for other innovations of the region that are not given."""
    scores = [score_facts(draw(innovation_facts(f"INV-{number}")), rubric) for number in range(draw(st.integers(0, 6)))]
    given_totals = full_totals(score.contribution() for score in scores)
    others = draw(region_totals())
    return RegionState(
        spd_levels=draw(spd_levels),
        totals=others.apply(TotalsDelta(**given_totals.model_dump())),
        innovations=tuple(scores),
    )


def iid(value: float) -> Decimal:
    return Decimal(str(value))


@given(rubric=rubrics, totals=region_totals(), spd=spd_levels)
def test_iid_lies_in_0_to_100_and_matches_its_band(rubric: Rubric, totals: RegionTotals, spd: dict[str, int]) -> None:
    figures = compute_index(totals, spd, rubric)
    assert 0 <= figures.iid <= 100
    assert iid(figures.iid) == iid(figures.iid).quantize(Decimal("0.01"))
    band = rubric.bands[figures.predicate]
    assert band.min <= iid(figures.iid) <= band.max
    above = rubric.band_above(figures.predicate)
    assert figures.next_predicate == (above[0] if above else None)
    assert figures.next_predicate_iid == (float(above[1].min) if above else None)
    assert figures.yandas_covered == [affair for affair in BASIC_SERVICE_AFFAIRS if affair in totals.affair_counts]
    assert figures.yandas_missing == [affair for affair in BASIC_SERVICE_AFFAIRS if affair not in totals.affair_counts]


@given(
    rubric=rubrics,
    totals=region_totals(),
    spd=spd_levels,
    indicator_id=st.sampled_from(SPD_INDICATOR_IDS),
    data=st.data(),
)
def test_raising_an_spd_level_never_lowers_the_iid(
    rubric: Rubric, totals: RegionTotals, spd: dict[str, int], indicator_id: str, data: st.DataObject
) -> None:
    current = spd.get(indicator_id, 0)
    assume(current < 3)
    raised = data.draw(st.integers(min_value=current + 1, max_value=3))
    state = RegionState(spd_levels=spd, totals=totals)
    after = what_if(state, [SetSpdLevel(indicator_id=indicator_id, level=raised)], rubric)
    assert after.iid >= state.figures(rubric).iid


@given(data=st.data(), rubric=rubrics)
def test_raising_an_evidenced_sid_level_never_lowers_the_iid(data: st.DataObject, rubric: Rubric) -> None:
    state = data.draw(region_states(rubric))
    raisable = [
        (score.facts.external_id, indicator_id, claim.level)
        for score in state.innovations
        for indicator_id, claim in score.facts.claims.items()
        if claim.has_evidence and claim.level < 3
    ]
    assume(raisable)
    external_id, indicator_id, level = data.draw(st.sampled_from(raisable))
    raised = data.draw(st.integers(min_value=level + 1, max_value=3))
    before = state.model_dump()
    after = what_if(state, [SetSidClaim(external_id=external_id, indicator_id=indicator_id, level=raised)], rubric)
    assert after.iid >= state.figures(rubric).iid
    assert state.model_dump() == before


contributions = st.builds(
    Contribution,
    eligible=st.booleans(),
    maturity=st.integers(min_value=0, max_value=111),
    yandas_affairs=st.frozensets(st.sampled_from(BASIC_SERVICE_AFFAIRS)),
)


@given(events=st.lists(st.tuples(st.sampled_from("ABCDE"), st.none() | contributions), max_size=40))
def test_incremental_totals_equal_a_full_recomputation(events: list[tuple[str, Contribution | None]]) -> None:
    latest: dict[str, Contribution] = {}
    incremental = RegionTotals()
    for external_id, contribution in events:
        previous = latest.pop(external_id, None)
        if contribution is not None:
            incremental = incremental.apply(contribution.delta(previous))
            latest[external_id] = contribution
        elif previous is not None:
            incremental = incremental.apply(previous.removal())
    assert incremental == full_totals(latest.values())


@settings(deadline=None, max_examples=60)
@given(data=st.data(), rubric=rubrics)
def test_every_path_step_raises_the_iid(data: st.DataObject, rubric: Rubric) -> None:
    state = data.draw(region_states(rubric))
    plan = plan_path(state, rubric, max_steps=8)
    iids = [iid(plan.start_iid)] + [iid(step.iid_after) for step in plan.steps]
    assert all(before <= after for before, after in itertools.pairwise(iids))
    assert iid(plan.final_iid) == iids[-1]
    assert plan.reached == (plan.target_iid is None or iid(plan.final_iid) >= iid(plan.target_iid))
    assert plan.reached or plan.notes
