"""The portal's read model on a real MongoDB-protocol server: a page reads its documents every time, parses
one only when it changed (`PortalStore`), and never shows a state older than the stored one, whoever wrote it;
the compliance table over such a region."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo import AsyncMongoClient

from inovda_portal.adapters.store import PortalStore
from inovda_portal.domain.access import Account
from inovda_portal.domain.model import (
    InnovationSummary,
    RegionDirectory,
    RegionYear,
    UnitCounts,
    UnitEntry,
    Verified,
)
from inovda_portal.views import PortalViews

pytestmark = pytest.mark.integration

KUKAR, YEAR = "64.02", 2026
AT = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def summary(external_id: str, unit_code: str, points_lost: float) -> InnovationSummary:
    return InnovationSummary(
        source="e-inovasi",
        external_id=external_id,
        unit_code=unit_code,
        title=f"Inovasi {external_id}",
        revision=1,
        submitted_at=AT,
        scored_revision=1,
        maturity=40,
        eligible=True,
        verified=Verified(reviewed_round=1, maturity=40 - points_lost, eligible=True, points_lost=points_lost),
    )


def unit(code: str, name: str) -> UnitEntry:
    return UnitEntry(unit_code=code, name=name, kind="opd", version=1)


async def test_an_unchanged_document_is_parsed_once_and_a_change_by_anyone_is_read(
    mongo: AsyncMongoClient[Any], drop_database: str
) -> None:
    page, other_replica = PortalStore(mongo[drop_database]), PortalStore(mongo[drop_database])
    region = RegionYear(region_code=KUKAR, year=YEAR, innovations={"a": summary("A", "DINKES", 0)})
    await page.save_region_year(region)

    first = await page.region_year(KUKAR, YEAR)
    assert first == region
    assert await page.region_year(KUKAR, YEAR) is first  # read again, not parsed again

    changed = region.model_copy(update={"spd_levels": {"S1": 3}})
    await other_replica.save_region_year(changed)
    seen = await page.region_year(KUKAR, YEAR)
    assert seen == changed
    assert seen is not first


async def test_the_compliance_table_counts_each_units_lost_points_from_its_own_innovations(
    mongo: AsyncMongoClient[Any], drop_database: str
) -> None:
    store = PortalStore(mongo[drop_database])
    await store.save_directory(
        RegionDirectory(
            region_code=KUKAR,
            units={code: unit(code, name) for code, name in (("DINKES", "Dinas Kesehatan"), ("DISHUB", "Dishub"))},
            years=(YEAR,),
        )
    )
    innovations = {
        "a": summary("A", "DINKES", 4),
        "b": summary("B", "DINKES", 2.5),
        "c": summary("C", "DINKES", 0),
        "d": summary("D", "DISHUB", 1.5),
        "e": summary("E", "DISHUB", 0),
    }
    counts = UnitCounts(version=1, innovations=3, eligible=3, compliant=True)
    await store.save_region_year(
        RegionYear(region_code=KUKAR, year=YEAR, innovations=innovations, compliance={"DINKES": counts})
    )
    views = PortalViews(store, "portal", lambda: AT, ZoneInfo("Asia/Makassar"))
    office = Account(username="brida", role="admin", regions=(KUKAR,))

    view = await views.compliance(office, KUKAR, YEAR, sort="nama")

    assert view is not None
    rows = {row.unit_code: row for row in view.rows}
    assert (rows["DINKES"].points_lost, rows["DINKES"].lost_in) == (6.5, 2)
    assert (rows["DISHUB"].points_lost, rows["DISHUB"].lost_in) == (1.5, 1)
    assert (rows["DINKES"].innovations, rows["DISHUB"].innovations) == (3, 0)
