"""The scoring queries, read-only, for the CLI and the portal: where a region stands, what would lift it, what if.

Built from the store alone; nothing here writes or publishes.
"""

from dataclasses import dataclass

from inovda_shared.contracts.events import Review
from inovda_shared.mongo import Document

from .adapters.store import ScoringStore
from .domain import (
    IndexFigures,
    PathPlan,
    RegionState,
    WhatIfChange,
    compute_index,
    full_totals,
    load_rubric,
    plan_path,
    what_if,
)
from .domain.planner import DEFAULT_MAX_STEPS
from .domain.region import Candidate, Region, by_potential


@dataclass(frozen=True)
class Standing:
    """A region-year's index as claimed and, once it has started verifying, as verified, with the review's
    progress."""

    claimed: IndexFigures
    verified: IndexFigures | None = None
    review: Review | None = None

    @property
    def points_at_risk(self) -> float | None:
        return round(self.claimed.iid - self.verified.iid, 2) if self.verified is not None else None


class ScoringViews:
    def __init__(self, store: ScoringStore) -> None:
        self._store = store

    async def region_state(self, region_code: str, year: int, candidates: int | None = None) -> RegionState:
        """The region as the path sees it; `candidates` None takes every stored innovation as a candidate,
        a number takes that many of the ones the region keeps (the most improvable)."""
        region = await self._store.region_of(region_code, year)
        rubric = load_rubric(year)
        return region.state(entry.score(rubric) for entry in await self._candidates(region, candidates))

    async def verified_state(self, region_code: str, year: int, candidates: int | None = None) -> RegionState:
        """The region as verified (the accepted levels only), as `region_state` takes its candidates."""
        region = await self._store.region_of(region_code, year)
        rubric = load_rubric(year)
        entries = await self._candidates(region, candidates)
        return region.verified_state(entry.verified_score(rubric) for entry in entries)

    async def _candidates(self, region: Region, count: int | None) -> list[Candidate]:
        if count is None:
            return by_potential(await self._store.candidates_of(region.region_code, region.year))
        return by_potential(region.kept(count))

    async def index(self, region_code: str, year: int) -> IndexFigures:
        state = await self.region_state(region_code, year, candidates=0)
        return state.figures(load_rubric(year))

    async def standing(self, region_code: str, year: int) -> Standing:
        region = await self._store.region_of(region_code, year)
        rubric = load_rubric(year)
        claimed = region.state(()).figures(rubric)
        if not region.verifying:
            return Standing(claimed)
        return Standing(claimed, region.verified_state(()).figures(rubric), region.review.review())

    async def path(self, region_code: str, year: int, max_steps: int = DEFAULT_MAX_STEPS) -> PathPlan:
        """The path to the next predicate: on the verified figures once the region has started verifying."""
        region = await self._store.region_of(region_code, year)
        state = await (self.verified_state if region.verifying else self.region_state)(region_code, year)
        return plan_path(state, load_rubric(year), max_steps=max_steps)

    async def what_if(self, region_code: str, year: int, changes: list[WhatIfChange]) -> IndexFigures:
        return what_if(await self.region_state(region_code, year), changes, load_rubric(year))

    async def recomputed_index(self, region_code: str, year: int) -> tuple[IndexFigures, IndexFigures]:
        """The index as maintained by increments, and as recomputed from every stored innovation (a check)."""
        region = await self._store.region_of(region_code, year)
        contributions = await self._store.contributions_of(region_code, year)
        rubric = load_rubric(year)
        return (
            compute_index(region.totals, region.spd_levels, rubric),
            compute_index(full_totals(contributions), region.spd_levels, rubric),
        )

    async def maturities(self, region_code: str, year: int) -> list[tuple[int, bool]]:
        """(maturity, eligible) of every innovation of the region-year: for reports and charts."""
        return await self._store.maturities_of(region_code, year)

    async def compliance(self, region_code: str, year: int) -> list[Document]:
        """Every active unit of the region with its innovations of the year (units without any first)."""
        counted = {doc["unit_code"]: doc for doc in await self._store.compliance_of(region_code, year)}
        rows = []
        for unit in await self._store.units_of(region_code):
            if not unit.get("active", True):
                continue
            row = counted.get(unit["unit_code"], {})
            innovations = int(row.get("innovations", 0))
            rows.append(
                {
                    **unit,
                    "innovations": innovations,
                    "eligible": int(row.get("eligible", 0)),
                    "compliant": innovations > 0,
                }
            )
        return sorted(rows, key=lambda row: (row["compliant"], row["kind"], row["name"]))
