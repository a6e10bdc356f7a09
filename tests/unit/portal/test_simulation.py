"""The what-if is scoring's own computation: on the portal's copy of a region it gives what scoring gives."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from inovda_portal.domain import projection
from inovda_portal.domain.model import RegionYear
from inovda_portal.domain.simulation import read_what_if, region_state, simulate
from inovda_scoring.domain import (
    AddInnovations,
    SetSidClaim,
    SetSpdLevel,
    WhatIfChange,
    compute_index,
    full_totals,
    load_rubric,
    score_innovation,
    what_if,
)
from tests.unit.scoring.builders import KUKAR_SPD, state_of

from .events import profiled, report, submitted

RUBRIC = load_rubric(2026)


def region_with(reports: list) -> RegionYear:  # type: ignore[type-arg]
    region = projection.profile_updated(RegionYear(region_code="64.02", year=2026), profiled(spd=KUKAR_SPD))
    assert region is not None
    for number, item in enumerate(reports, start=1):
        region = projection.region_submitted(region, submitted(item, number)) or region
    return region


LEVELS = st.dictionaries(st.sampled_from(["18", "19", "20", "28", "31", "34"]), st.integers(1, 3), max_size=4)


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(LEVELS, st.booleans(), st.sampled_from(["kesehatan", "pendidikan", "sosial", "pertanian"])),
        min_size=1,
        max_size=8,
    )
)
def test_a_what_if_with_no_change_is_scorings_index_of_the_same_innovations(drawn: list) -> None:  # type: ignore[type-arg]
    reports = [
        report(
            f"INV-{number:03d}",
            urusan=[affair],
            indicators={
                **report().model_dump(mode="json")["indicators"],
                **{
                    key: {"level": level, "evidence": [{"title": "Bukti", "uri": "https://kukarkab.example/b.pdf"}]}
                    for key, level in levels.items()
                },
            },
            stage="penerapan" if eligible else "uji_coba",
        )
        for number, (levels, eligible, affair) in enumerate(drawn)
    ]
    scores = [score_innovation(item, RUBRIC) for item in reports]
    expected = compute_index(full_totals(score.contribution() for score in scores), KUKAR_SPD, RUBRIC)
    simulation = simulate(region_with(reports), [], [], RUBRIC)
    assert simulation.before == simulation.after == expected


def test_changes_give_what_scorings_what_if_gives() -> None:
    reports = [report("INV-001"), report("INV-002", urusan=["pendidikan"])]
    scores = [score_innovation(item, RUBRIC) for item in reports]
    changes: list[WhatIfChange] = [
        SetSpdLevel(indicator_id="15", level=3),
        AddInnovations(count=3, maturity=40, affairs=frozenset({"sosial"})),
        SetSidClaim(external_id="INV-001", indicator_id="31", level=3),
    ]
    expected = what_if(state_of(scores, KUKAR_SPD), changes, RUBRIC)
    assert simulate(region_with(reports), changes, [scores[0]], RUBRIC).after == expected
    assert expected.iid > compute_index(full_totals(s.contribution() for s in scores), KUKAR_SPD, RUBRIC).iid


def test_the_form_reads_spd_levels_new_innovations_and_indicator_changes() -> None:
    region = region_with([report("INV-001")])
    key = "e-inovasi/INV-001"
    form = read_what_if(
        {
            "spd-15": "3",
            "spd-1": str(KUKAR_SPD["1"]),  # unchanged: no change
            "add-count": "2",
            "add-maturity": "55",
            "add-urusan": ["sosial", "pendidikan"],
            "claim-0-innovation": key,
            "claim-0-indicator": "31",
            "claim-0-level": "2",
            "claim-1-innovation": "someone-else/INV-9",
        },
        region,
        RUBRIC,
        {key},
    )
    assert form.changes == (
        SetSpdLevel(indicator_id="15", level=3),
        AddInnovations(count=2, maturity=55, affairs=frozenset({"sosial", "pendidikan"})),
        SetSidClaim(external_id="INV-001", indicator_id="31", level=2),
    )
    assert form.innovation_keys == (key,)
    assert form.problems == ("Inovasi yang dipilih tidak ditemukan.",)


def test_totals_come_from_every_innovation_the_portal_knows() -> None:
    region = region_with([report("INV-001"), report("INV-002", stage="uji_coba")])
    state = region_state(region)
    assert state.totals.n == 1  # the trial one brings nothing
    assert state.spd_levels == KUKAR_SPD
    assert dt.date(2026, 1, 1).year == region.year
