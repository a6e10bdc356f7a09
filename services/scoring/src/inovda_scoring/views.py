"""The scoring queries, read-only, for the CLI and the portal: where a region stands, what would lift it, what if.

Built from the store alone; nothing here writes or publishes.
"""

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
from .domain.region import by_potential


class ScoringViews:
    def __init__(self, store: ScoringStore) -> None:
        self._store = store

    async def region_state(self, region_code: str, year: int, candidates: int | None = None) -> RegionState:
        """The region as the path sees it; `candidates` None takes every stored innovation as a candidate,
        a number takes that many of the ones the region keeps (the most improvable)."""
        region = await self._store.region_of(region_code, year)
        if candidates is None:
            entries = await self._store.candidates_of(region_code, year)
        else:
            entries = region.kept(candidates)
        rubric = load_rubric(year)
        return region.state(entry.score(rubric) for entry in by_potential(entries))

    async def index(self, region_code: str, year: int) -> IndexFigures:
        state = await self.region_state(region_code, year, candidates=0)
        return state.figures(load_rubric(year))

    async def path(self, region_code: str, year: int, max_steps: int = DEFAULT_MAX_STEPS) -> PathPlan:
        state = await self.region_state(region_code, year)
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
