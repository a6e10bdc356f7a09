"""Builders for the scoring tests: intake reports and region states with exactly what a test cares about."""

import datetime as dt
import json
import random
from collections.abc import Collection, Mapping

from inovda_cli import samples
from inovda_scoring.domain.index import full_totals
from inovda_scoring.domain.maturity import InnovationScore, score_innovation
from inovda_scoring.domain.rubric import Rubric
from inovda_scoring.domain.whatif import RegionState
from inovda_shared.contracts.intake import InnovationReport
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, SID_INDICATOR_IDS, SPD_INDICATOR_IDS

MANDATORY = ("16", "17", "32", "33", "35")
# The least an eligible innovation can claim: every mandatory indicator at level 1 (maturity 3+2+2+3+4 = 14).
MANDATORY_AT_LEVEL_1: dict[str, int] = dict.fromkeys(MANDATORY, 1)


def levels_at(level: int) -> dict[str, int]:
    return dict.fromkeys(SID_INDICATOR_IDS, level)


def report(
    external_id: str = "INV-001",
    *,
    levels: Mapping[str, int] = MANDATORY_AT_LEVEL_1,
    without_evidence: Collection[str] = (),
    stage: str = "penerapan",
    applied_on: dt.date | None = dt.date(2024, 3, 1),
    design_words: int = 300,
    urusan: Collection[str] = ("kesehatan",),
    year: int = 2026,
    title: str = "Posyandu Digital Kukar",
    unit_code: str = "DINKES",
) -> InnovationReport:
    """A valid report; evidence on every claimed indicator except `without_evidence`."""
    indicators = {
        indicator_id: {
            "level": level,
            "evidence": [] if indicator_id in without_evidence else samples.evidence(),
            **({"basis": "a"} if indicator_id == "33" else {}),
        }
        for indicator_id, level in levels.items()
    }
    body = samples.innovation(
        external_id,
        unit_code,
        year=year,
        title=title,
        stage=stage,
        applied_on=applied_on.isoformat() if applied_on else None,
        design=" ".join(["kata"] * design_words),
        urusan=list(urusan),
        indicators=indicators,
    )
    return InnovationReport.model_validate_json(json.dumps(body))


def spd_at(level: int) -> dict[str, int]:
    return dict.fromkeys(SPD_INDICATOR_IDS, level)


def state_of(scores: list[InnovationScore], spd_levels: Mapping[str, int]) -> RegionState:
    return RegionState(
        spd_levels=dict(spd_levels),
        totals=full_totals(score.contribution() for score in scores),
        innovations=tuple(scores),
    )


# Kukar reports about sixty innovations a year from its OPD, kecamatan and puskesmas; its SPD is strong on
# governance (vision, budget, audit) and weaker on the innovation-support indicators 12..15.
KUKAR_SPD: dict[str, int] = {
    **spd_at(3),
    "2b": 2, "3": 2, "4": 2, "5a": 2, "6": 2, "10a": 2, "11a": 2,
    "12": 2, "13a": 2, "13b": 2, "14": 2, "15": 1,
}  # fmt: skip
_KUKAR_AFFAIRS = (*BASIC_SERVICE_AFFAIRS[:5], "pertanian", "pariwisata", "perencanaan", "pangan")


def kukar_like_scores(rubric: Rubric, count: int = 60) -> list[InnovationScore]:
    """`count` innovations of mixed maturity, a few of them ineligible for fixable and unfixable reasons."""
    draw = random.Random(6402)
    scores = []
    for number in range(count):
        levels = {indicator_id: draw.choice((1, 2, 3, 3, 3)) for indicator_id in SID_INDICATOR_IDS}
        for optional in draw.sample([i for i in SID_INDICATOR_IDS if i not in MANDATORY], k=draw.randint(0, 3)):
            del levels[optional]
        ineligible_kind = number % 20
        scores.append(
            score_innovation(
                report(
                    f"KUKAR-{number:03d}",
                    title=f"Inovasi Kukar {number:03d}",
                    unit_code=f"UNIT-{number % 20:02d}",
                    levels=levels,
                    without_evidence=("35",) if ineligible_kind == 1 else (),
                    design_words=180 if ineligible_kind == 2 else 320,
                    stage="uji_coba" if ineligible_kind == 3 else "penerapan",
                    urusan=(_KUKAR_AFFAIRS[number % len(_KUKAR_AFFAIRS)],),
                    year=rubric.year,
                    applied_on=dt.date(rubric.year - 2, 1 + number % 12, 1),
                ),
                rubric,
            )
        )
    return scores
