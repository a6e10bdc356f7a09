"""The portal against real RabbitMQ and a real MongoDB-protocol server: events in, pages out; what each account
may see; the report form through the real intake; the exports read back to the numbers of `inovda report`."""

import asyncio
import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import openpyxl
import pytest
from pymongo import AsyncMongoClient

from inovda_cli import samples
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_portal.adapters.passwords import Passwords
from inovda_portal.adapters.store import PortalStore
from inovda_portal.service import Accounts
from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.settings import ScoringSettings
from inovda_scoring.views import ScoringViews
from inovda_shared.indonesian import format_number
from inovda_shared.mongo import connect
from inovda_submission.settings import SubmissionSettings
from tests.support.portal import PortalServer, csrf_of, portal_settings, signed_in
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

KUKAR, YEAR = "64.02", 2026
PASSWORD = "sandi-portal-yang-panjang"
MENTOR = "mentor.dinkes@kukarkab.example"
TEXTS = ("title", "design", "goals", "benefits")


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def portal(
    submission: SubmissionSettings, scoring: ScoringSettings, mongo: AsyncMongoClient[Any], drop_database: str
) -> AsyncIterator[PortalServer]:
    """Submission, scoring and the portal, with three accounts; the region's units, profile and two reports."""
    settings = portal_settings(submission.amqp_url, submission.mongodb_url, f"{drop_database}_portal")
    accounts = Accounts(PortalStore(mongo[settings.mongodb_database]), Passwords(), lambda: dt.datetime.now(dt.UTC))
    await accounts.add("brida", "admin", [KUKAR], PASSWORD)
    await accounts.add("pendamping", "mentor", [KUKAR], PASSWORD, email=MENTOR)
    await accounts.add("dinkes", "unit", [KUKAR], PASSWORD, unit_code="DINKES")
    async with PortalServer(settings) as server:
        yield server
    await mongo.drop_database(settings.mongodb_database)


@pytest.fixture
async def region(portal: PortalServer, submission: SubmissionSettings, events: EventProbe) -> PortalServer:
    await publish_messages(
        submission.amqp_url,
        [
            IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES", mentor_emails=[MENTOR]), "u1"),
            IntakeMessage.of("unit.upsert.v1", samples.unit("DISHUB", name="Dinas Perhubungan"), "u2"),
            IntakeMessage.of(
                "unit.upsert.v1", samples.unit("KEC-01", name="Kecamatan Muara Muntai", kind="kecamatan"), "u3"
            ),
            IntakeMessage.of("region.profile.v1", samples.profile(), "p1"),
        ],
    )
    await events.wait_for("intake.accepted.*", count=4)
    await publish_messages(
        submission.amqp_url,
        [
            IntakeMessage.of("innovation.report.v1", samples.innovation("INV-1", "DINKES"), "r1"),
            IntakeMessage.of(
                "innovation.report.v1",
                samples.innovation("INV-2", "DISHUB", title="Terminal Pintar", design="rancang bangun singkat"),
                "r2",
            ),
        ],
    )
    await events.wait_for("innovation.scored", count=2)
    announced = await events.wait_for("region.index.updated", where=lambda body: body["n"] == 1)
    version = max(event.body["version"] for event in events.matching("region.index.updated"))
    store = PortalStore(connect(portal.settings.mongodb_url)[portal.settings.mongodb_database])

    async def caught_up() -> bool:
        seen = await store.region_year(KUKAR, YEAR)
        scored = [summary for summary in seen.innovations.values() if summary.scored_revision == summary.revision]
        units = (await store.directory(KUKAR)).units
        return bool(seen.index and seen.index.version >= version and len(scored) == 2 and len(units) == 3)

    await eventually(caught_up, "the portal has the region's units, scores and latest index")
    assert announced
    return portal


def scoring_views(scoring: ScoringSettings) -> ScoringViews:
    return ScoringViews(ScoringStore(connect(scoring.mongodb_url)[scoring.mongodb_database]))


async def test_the_overview_shows_scorings_index_and_its_parts(region: PortalServer, scoring: ScoringSettings) -> None:
    figures = await scoring_views(scoring).index(KUKAR, YEAR)
    async with signed_in(region.url, "brida", PASSWORD) as client:
        page = await client.get(f"/wilayah/{KUKAR}/{YEAR}")
    assert page.status_code == 200
    assert f'data-testid="iid">{format_number(figures.iid)}<' in page.text
    assert f'data-testid="predicate">{figures.predicate}<' in page.text
    assert f"<dd>{format_number(figures.spd)}</dd>" in page.text
    assert f'data-testid="empty-seats">{12 - figures.n}<' in page.text
    assert "<svg" in page.text
    assert "kesehatan" in page.text


async def test_the_exports_read_back_to_the_numbers_of_the_report(
    region: PortalServer, scoring: ScoringSettings
) -> None:
    expected = {
        row["unit_code"]: (row["innovations"], row["eligible"], "sudah" if row["compliant"] else "belum")
        for row in await scoring_views(scoring).compliance(KUKAR, YEAR)
    }
    assert expected == {"DINKES": (1, 1, "sudah"), "DISHUB": (1, 0, "sudah"), "KEC-01": (0, 0, "belum")}
    async with signed_in(region.url, "brida", PASSWORD) as client:
        text = (await client.get(f"/wilayah/{KUKAR}/{YEAR}/kepatuhan.csv")).content.decode("utf-8-sig")
        workbook = (await client.get(f"/wilayah/{KUKAR}/{YEAR}/kepatuhan.xlsx")).content
        page = (await client.get(f"/wilayah/{KUKAR}/{YEAR}/kepatuhan")).text
    rows = list(csv.DictReader(io.StringIO(text)))
    from_csv = {
        row["Kode unit"]: (int(row["Inovasi dilaporkan"]), int(row["Memenuhi syarat"]), row["Patuh"]) for row in rows
    }
    assert from_csv == expected
    assert rows[0]["Kode unit"] == "KEC-01"  # units without an innovation first
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    header, *values = list(sheet.iter_rows(values_only=True))
    from_xlsx = {row[0]: (row[3], row[4], row[5]) for row in values}
    assert header[0] == "Kode unit"
    assert from_xlsx == expected
    assert 'data-testid="compliant-count">2<' in page


async def test_each_account_sees_what_its_role_allows_and_nothing_else(region: PortalServer) -> None:
    async with signed_in(region.url, "dinkes", PASSWORD) as unit:
        home = await unit.get("/")
        assert home.status_code == 200
        assert "/unit/DINKES" in str(home.url)
        assert "Posyandu Digital Kukar" in home.text
        for path in (
            f"/wilayah/{KUKAR}/unit/DISHUB",
            "/inovasi/e-inovasi/INV-2",
            f"/wilayah/{KUKAR}/{YEAR}",
            f"/wilayah/{KUKAR}/{YEAR}/kepatuhan",
            f"/wilayah/{KUKAR}/{YEAR}/kepatuhan.csv",
            f"/wilayah/{KUKAR}/{YEAR}/simulasi",
            f"/wilayah/{KUKAR}/unit/DISHUB/lapor",
            "/wilayah/64.03/unit/DINKES",
        ):
            assert (await unit.get(path)).status_code == 404, path
        assert (await unit.get("/inovasi/e-inovasi/INV-1")).status_code == 200
    async with signed_in(region.url, "pendamping", PASSWORD) as mentor:
        table = (await mentor.get(f"/wilayah/{KUKAR}/{YEAR}/kepatuhan.csv")).content.decode("utf-8-sig")
        assert [row["Kode unit"] for row in csv.DictReader(io.StringIO(table))] == ["DINKES"]
        assert (await mentor.get(f"/wilayah/{KUKAR}/unit/DISHUB")).status_code == 404
        assert (await mentor.get(f"/wilayah/{KUKAR}/unit/DINKES/lapor")).status_code == 404  # mentors read only
    async with httpx.AsyncClient(base_url=region.url) as anonymous:
        page = await anonymous.get(f"/wilayah/{KUKAR}/{YEAR}")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/masuk?lanjut=")


async def test_the_what_if_changes_the_index_as_scoring_computes_it(
    region: PortalServer, scoring: ScoringSettings
) -> None:
    views = scoring_views(scoring)
    figures = await views.index(KUKAR, YEAR)
    async with signed_in(region.url, "brida", PASSWORD) as client:
        token = await csrf_of(client, f"/wilayah/{KUKAR}/{YEAR}/simulasi")
        unchanged = await client.post(f"/wilayah/{KUKAR}/{YEAR}/simulasi", data={"csrf_token": token})
        changed = await client.post(
            f"/wilayah/{KUKAR}/{YEAR}/simulasi",
            data={"csrf_token": token, "spd-15": "3", "add-count": "4", "add-maturity": "60", "add-urusan": "sosial"},
        )
    assert f'data-testid="iid-after">{format_number(figures.iid)}<' in unchanged.text
    from inovda_scoring.domain import AddInnovations, SetSpdLevel

    expected = await views.what_if(
        KUKAR,
        YEAR,
        [SetSpdLevel(indicator_id="15", level=3), AddInnovations(count=4, maturity=60, affairs=frozenset({"sosial"}))],
    )
    assert f'data-testid="iid-after">{format_number(expected.iid)}<' in changed.text
    assert expected.iid > figures.iid


def report_form(token: str, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    body = samples.innovation("ignored", "DINKES", title="Layanan Antar Obat Puskesmas")
    form: dict[str, str | list[str]] = {
        "csrf_token": token,
        "year": str(YEAR),
        **{
            name: body[name]
            for name in ("title", "form", "type", "initiator", "stage", "applied_on", "design", "goals", "benefits")
        },
        "urusan": body["urusan"],
    }
    for indicator_id, claim in body["indicators"].items():
        form[f"ind-{indicator_id}-level"] = str(claim["level"])
        if "basis" in claim:
            form[f"ind-{indicator_id}-basis"] = claim["basis"]
        for index, evidence in enumerate(claim["evidence"]):
            form[f"ind-{indicator_id}-ev-{index}-title"] = evidence["title"]
            form[f"ind-{indicator_id}-ev-{index}-uri"] = evidence["uri"]
    form.update(overrides)
    return form


async def test_a_unit_reports_through_the_form_and_sees_it_accepted_and_scored(
    region: PortalServer, scoring: ScoringSettings, events: EventProbe
) -> None:
    async with signed_in(region.url, "dinkes", PASSWORD) as client:
        form_page = f"/wilayah/{KUKAR}/unit/DINKES/lapor?tahun={YEAR}"
        sent = await client.post(
            f"/wilayah/{KUKAR}/unit/DINKES/lapor", data=report_form(await csrf_of(client, form_page))
        )
        status_page = str(sent.url)
        assert "/laporan/" in status_page

        async def scored() -> bool:
            return 'data-testid="scored"' in (await client.get(status_page)).text

        await eventually(scored, "the portal's report accepted and scored")
        [answer] = events.matching("intake.accepted.portal")
        external_id = answer.body["key"]["external_id"]
        innovation = await client.get(f"/inovasi/portal/{external_id}")
        assert innovation.status_code == 200
        assert 'data-testid="revision-1"' in innovation.text
        assert "Kematangan" in innovation.text
    rows = {row["unit_code"]: row for row in await scoring_views(scoring).compliance(KUKAR, YEAR)}
    assert rows["DINKES"]["innovations"] == 2  # scoring counts it like any other source's report


async def test_a_rejected_report_comes_back_with_each_reason_beside_its_field(region: PortalServer) -> None:
    async with signed_in(region.url, "dinkes", PASSWORD) as client:
        token = await csrf_of(client, f"/wilayah/{KUKAR}/unit/DINKES/lapor")
        sent = await client.post(
            f"/wilayah/{KUKAR}/unit/DINKES/lapor",
            data=report_form(token, title="Layanan " * 40, **{"ind-16-ev-0-uri": "bukan tautan"}),
        )
        status_page = str(sent.url)

        async def answered() -> bool:
            return (await client.get(status_page)).status_code == 422

        await eventually(answered, "the rejection shown on the form")
        page = (await client.get(status_page)).text
    problems = dict(re.findall(r'data-field="([^"]+)">([^<]+)', page))
    assert set(problems) == {"title", "ind-16-ev-0-uri"}
    assert "Tautan" in problems["ind-16-ev-0-uri"]
    assert "terlalu panjang" in problems["title"]
    assert 'value="bukan tautan"' in page  # what was typed is kept, to be corrected


async def test_forms_need_their_token_and_logins_are_throttled(region: PortalServer) -> None:
    async with httpx.AsyncClient(base_url=region.url) as client:
        token = await csrf_of(client, "/masuk")
        refused = await client.post("/masuk", data={"username": "brida", "password": PASSWORD})
        assert refused.status_code == 400
        for _ in range(5):
            wrong = await client.post("/masuk", data={"csrf_token": token, "username": "brida", "password": "salah"})
            assert wrong.status_code == 401
        throttled = await client.post("/masuk", data={"csrf_token": token, "username": "brida", "password": PASSWORD})
        assert throttled.status_code == 429
        assert "Terlalu banyak" in throttled.text
