"""Which SID indicators of an innovation would gain the most maturity points, and what to do about each.

The scoring service owns the rubric and puts its pick in `innovation.scored` (`top_improvements`, best
first); this module only keeps that order and adds the advice, so this service needs no rubric data.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from inovda_shared.contracts.events import IndicatorImprovement

MAX_LEVEL = 3


@dataclass(frozen=True)
class Improvement:
    indicator_id: str
    name: str
    level: int  # 0: not filled in
    has_evidence: bool
    gain: float
    advice: str  # what to do, in Bahasa Indonesia


def improvements_from_event(items: Sequence[IndicatorImprovement]) -> list[Improvement]:
    """The scoring service's own top improvements, in its order (its gain: the top level with evidence)."""
    return [
        Improvement(item.indicator_id, item.name, item.level, item.has_evidence, item.points, _advice(item) + ".")
        for item in items
    ]


def _advice(item: IndicatorImprovement) -> str:
    if item.level == 0:
        return f"Isi indikator ini di level {MAX_LEVEL} beserta data dukungnya"
    if not item.has_evidence and item.level < MAX_LEVEL:
        return f"Lengkapi data dukungnya dan naikkan dari level {item.level} ke level {MAX_LEVEL}"
    if not item.has_evidence:
        return f"Lengkapi data dukung untuk level {item.level} yang sudah diisi; tanpa data dukung nilainya 0"
    return f"Naikkan dari level {item.level} ke level {MAX_LEVEL} beserta data dukungnya"
