"""The greedy path to the next predicate band, and what-if answers."""

import itertools
import re
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from inovda_scoring.domain.index import RegionTotals
from inovda_scoring.domain.maturity import score_innovation
from inovda_scoring.domain.planner import plan_path
from inovda_scoring.domain.rubric import load_rubric
from inovda_scoring.domain.whatif import (
    AddInnovations,
    MakeEligible,
    RegionState,
    SetSidClaim,
    SetSpdLevel,
    WhatIfChange,
    what_if,
)
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS
from tests.unit.scoring.builders import (
    KUKAR_SPD,
    MANDATORY_AT_LEVEL_1,
    kukar_like_scores,
    levels_at,
    report,
    spd_at,
    state_of,
)

RUBRIC = load_rubric(2026)
GAIN_SUFFIX = re.compile(r" \(\+\d+,\d\d poin IID\)$")


@pytest.fixture(scope="module")
def kukar() -> RegionState:
    return state_of(kukar_like_scores(RUBRIC), KUKAR_SPD)


def test_kukar_like_region_reaches_sangat_inovatif(kukar: RegionState) -> None:
    plan = plan_path(kukar, RUBRIC)
    assert len(kukar.innovations) == 60
    assert 58 <= plan.start_iid <= 62
    assert (plan.start_predicate, plan.target_predicate, plan.target_iid) == ("Inovatif", "Sangat Inovatif", 65.01)
    assert plan.reached
    assert plan.final_predicate == "Sangat Inovatif"
    assert plan.final_iid >= 65.01
    assert 0 < plan.step_count == len(plan.steps) <= 50
    iids = [plan.start_iid] + [step.iid_after for step in plan.steps]
    assert all(before < after for before, after in itertools.pairwise(iids))
    assert plan.steps[-1].iid_after == plan.final_iid
    step_gains = sum(Decimal(str(step.gain)) for step in plan.steps)
    assert step_gains == Decimal(str(plan.final_iid)) - Decimal(str(plan.start_iid)) == Decimal(str(plan.total_gain))
    assert all(GAIN_SUFFIX.search(step.description) for step in plan.steps)


def test_kukar_like_path_leaves_out_what_reporting_cannot_fix(kukar: RegionState) -> None:
    plan = plan_path(kukar, RUBRIC)
    stuck = [score for score in kukar.innovations if score.facts.stage == "uji_coba"]
    assert stuck
    targets = {step.target for step in plan.steps}
    for score in stuck:
        assert score.facts.external_id not in targets
        assert (
            f"Inovasi '{score.facts.title}' tidak dapat dihitung tahun ini: Tahapan masih 'uji_coba'; "
            "hanya inovasi tahap penerapan yang dihitung."
        ) in plan.notes
    fixable = {score.facts.external_id for score in kukar.innovations if not score.eligible} - {
        score.facts.external_id for score in stuck
    }
    made_eligible = {step.target for step in plan.steps if step.action == "make_eligible"}
    assert made_eligible
    assert made_eligible <= fixable


def test_a_subset_of_the_innovations_is_enough(kukar: RegionState) -> None:
    subset = kukar.model_copy(update={"innovations": kukar.innovations[:5]})
    plan = plan_path(subset, RUBRIC)
    assert plan.start_iid == plan_path(kukar, RUBRIC).start_iid
    assert plan.reached
    none_at_all = plan_path(kukar.model_copy(update={"innovations": ()}), RUBRIC)
    assert none_at_all.reached
    assert {step.action for step in none_at_all.steps} <= {"raise_spd_level", "add_innovations", "cover_affair"}


def test_first_steps_by_hand() -> None:
    # Twelve innovations at level 2 everywhere (74 each); the last one lacks evidence for 18, now at level 3.
    scores = [
        score_innovation(
            report(f"INV-{n:02d}", title=f"Inovasi {n:02d}", levels=levels_at(2), urusan=["pertanian"]), RUBRIC
        )
        for n in range(11)
    ]
    scores.append(
        score_innovation(
            report(
                "INV-11",
                title="Inovasi 11",
                levels={**levels_at(2), "18": 3},
                without_evidence=("18",),
                urusan=["pertanian"],
            ),
            RUBRIC,
        )
    )
    plan = plan_path(state_of(scores, spd_at(3)), RUBRIC, max_steps=2)
    # Start: (63 + 884 / 12) / 250 x 100 = 54.67.
    assert plan.start_iid == 54.67
    assert [step.model_dump() for step in plan.steps] == [
        {
            "action": "add_sid_evidence",
            "target": "INV-11#18",
            "description": "Lengkapi data dukung indikator 18 (Dukungan anggaran) pada inovasi 'Inovasi 11' (level 3) "
            "(+0,20 poin IID)",
            "gain": 0.2,
            "iid_after": 54.87,  # 890 / 12
        },
        {
            "action": "raise_sid_level",
            "target": "INV-00#35",
            "description": "Naikkan indikator 35 (Video inovasi) pada inovasi 'Inovasi 00' dari level 2 ke 3 "
            "(+0,13 poin IID)",
            "gain": 0.13,
            "iid_after": 55.0,  # 894 / 12
        },
    ]
    assert not plan.reached
    assert "Jalur dibatasi 2 langkah; predikat Sangat Inovatif (IID minimal 65,01) belum tercapai." in plan.notes


def test_making_an_innovation_eligible_then_adding_new_ones() -> None:
    scores = [
        score_innovation(report("A", levels=MANDATORY_AT_LEVEL_1), RUBRIC),
        score_innovation(report("B", levels=MANDATORY_AT_LEVEL_1), RUBRIC),
        score_innovation(
            report("C", title="Aplikasi Sigap", levels=levels_at(3), design_words=212, without_evidence=("35",)),
            RUBRIC,
        ),
        score_innovation(report("D", title="Uji Coba Desa", stage="uji_coba", levels=levels_at(3)), RUBRIC),
    ]
    plan = plan_path(state_of(scores, spd_at(3)), RUBRIC)
    # Start: (63 + 28 / 12) x 0.4 = 26.13. C counts with 111: (63 + 139 / 12) x 0.4 = 29.83.
    # Then new innovations of the average 139 / 3 -> 46: seven reach (63 + 461 / 12) x 0.4 = 40.57.
    assert plan.start_iid == 26.13
    assert [step.model_dump() for step in plan.steps] == [
        {
            "action": "make_eligible",
            "target": "C",
            "description": "Jadikan inovasi 'Aplikasi Sigap' memenuhi syarat: lengkapi rancang bangun menjadi minimal "
            "300 kata (saat ini 212 kata); unggah data dukung indikator wajib 35 (Video inovasi) (+3,70 poin IID)",
            "gain": 3.7,
            "iid_after": 29.83,
        },
        {
            "action": "add_innovations",
            "target": "7",
            "description": "Tambahkan 7 inovasi baru yang memenuhi syarat dengan kematangan setara rata-rata saat ini "
            "(46) (+10,74 poin IID)",
            "gain": 10.74,
            "iid_after": 40.57,
        },
    ]
    assert (plan.reached, plan.final_predicate, plan.total_gain) == (True, "Inovatif", 14.44)
    assert plan.notes == [
        (
            "Inovasi 'Uji Coba Desa' tidak dapat dihitung tahun ini: Tahapan masih 'uji_coba'; "
            "hanya inovasi tahap penerapan yang dihitung."
        )
    ]


def test_covering_a_basic_affair_switches_the_count_score_on() -> None:
    state = RegionState(
        spd_levels=spd_at(2),
        totals=RegionTotals(sum_maturity=1300, n=13, affair_counts=dict.fromkeys(BASIC_SERVICE_AFFAIRS[:4], 1)),
    )
    step = plan_path(state, RUBRIC).steps[0]
    # From (42 + 1300 / 13) x 0.4 = 56.80 to (42 + 1400 / 14 + 14 x 0.38) x 0.4 = 58.93: more than any SPD step.
    assert (step.action, step.target, step.iid_after) == (
        "cover_affair",
        "ketenteraman_ketertiban_umum_pelindungan_masyarakat",
        58.93,
    )
    assert step.description == (
        "Tambahkan 1 inovasi baru yang memenuhi syarat pada urusan ketenteraman ketertiban umum pelindungan "
        "masyarakat (kematangan 100) agar urusan pelayanan dasar ini tercakup (+2,13 poin IID)"
    )


def test_the_top_band_has_an_empty_path() -> None:
    state = RegionState(spd_levels=spd_at(3), totals=RegionTotals(sum_maturity=80 * 100, n=80))
    plan = plan_path(state, RUBRIC)
    assert plan.start_predicate == "Sangat Inovatif"
    assert (plan.steps, plan.target_predicate, plan.target_iid, plan.reached) == ([], None, None, True)
    assert plan.final_iid == plan.start_iid


def test_an_unreachable_band_says_so() -> None:
    # Everything at its ceiling except maturity, and no innovation given whose indicators could rise.
    state = RegionState(
        spd_levels=spd_at(3),
        totals=RegionTotals(sum_maturity=200 * 20, n=200, affair_counts=dict.fromkeys(BASIC_SERVICE_AFFAIRS, 1)),
    )
    plan = plan_path(state, RUBRIC)
    assert (plan.start_iid, plan.steps, plan.reached) == (63.6, [], False)
    assert plan.notes == [
        "Predikat Sangat Inovatif (IID minimal 65,01) tidak tercapai dengan langkah yang tersedia; IID tertinggi 63,60."
    ]


def test_what_if_answers_without_changing_the_state(kukar: RegionState) -> None:
    before = kukar.model_dump()
    start = kukar.figures(RUBRIC)
    figures = what_if(kukar, [SetSpdLevel(indicator_id="12", level=3)], RUBRIC)
    assert Decimal(str(figures.iid)) - Decimal(str(start.iid)) == Decimal("0.80")  # weight 2, one level
    assert kukar.model_dump() == before
    assert kukar.spd_levels["12"] == 2
    assert what_if(kukar, [], RUBRIC) == start


def test_what_if_with_innovation_changes(kukar: RegionState) -> None:
    first = kukar.innovations[0]
    assert first.eligible
    stuck = next(score for score in kukar.innovations if score.facts.stage == "uji_coba")
    figures = what_if(
        kukar,
        [
            SetSidClaim(external_id=first.facts.external_id, indicator_id="35", level=3),
            MakeEligible(external_id=stuck.facts.external_id),
        ],
        RUBRIC,
    )
    raised = 12 - first.indicators["35"].score  # weight 4 x level 3, minus what 35 scored before
    assert figures.n == kukar.totals.n + 1
    assert figures.sum_maturity == kukar.totals.sum_maturity + raised + stuck.maturity


def test_what_if_adding_innovations_by_hand() -> None:
    state = RegionState(
        totals=RegionTotals(sum_maturity=1300, n=13, affair_counts=dict.fromkeys(BASIC_SERVICE_AFFAIRS[:4], 1))
    )
    assert state.figures(RUBRIC).iid == 40.0
    figures = what_if(
        state, [AddInnovations(count=1, maturity=100, affairs=frozenset({"sosial", "pertanian"}))], RUBRIC
    )
    # (1400 / 14 + 14 x 0.38) / 250 x 100 = 42.128
    assert figures.iid == 42.13
    assert figures.count_score == pytest.approx(5.32)
    assert figures.yandas_missing == ["ketenteraman_ketertiban_umum_pelindungan_masyarakat"]


def test_what_if_refuses_what_it_cannot_apply(kukar: RegionState) -> None:
    with pytest.raises(ValueError, match="innovation 'NOPE' is not among the innovations given with the state"):
        what_if(kukar, [MakeEligible(external_id="NOPE")], RUBRIC)
    first = kukar.innovations[0].facts.external_id
    with pytest.raises(ValueError, match="'15' is not a SID indicator of the 2026 rubric"):
        what_if(kukar, [SetSidClaim(external_id=first, indicator_id="15", level=2)], RUBRIC)
    with pytest.raises(ValueError, match="'35' is not an SPD indicator of the 2026 rubric"):
        what_if(kukar, [SetSpdLevel(indicator_id="35", level=2)], RUBRIC)
    with pytest.raises(ValidationError, match="not government affair slugs"):
        AddInnovations(count=1, maturity=50, affairs=frozenset({"olahraga"}))


def test_changes_arrive_as_json() -> None:
    changes = TypeAdapter(list[WhatIfChange]).validate_json(
        '[{"change": "set_spd_level", "indicator_id": "12", "level": 3},'
        ' {"change": "add_innovations", "count": 2, "maturity": 60, "affairs": ["sosial"]}]'
    )
    assert changes == [
        SetSpdLevel(indicator_id="12", level=3),
        AddInnovations(count=2, maturity=60, affairs=frozenset({"sosial"})),
    ]
