"""The portal in a real browser (headless Chromium from Debian, driven by Playwright), with the four services as
real processes on the real broker and database. Every page it opens is saved as a screenshot under
`var/screenshots/`."""

import asyncio
import csv
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from inovda_cli import samples
from inovda_cli.mailsink import MailSink
from inovda_cli.portal_users import portal_accounts
from inovda_cli.processes import ServiceProcess, free_port
from inovda_cli.publish import IntakeMessage, publish_messages
from tests.conftest import delete_service_queues
from tests.support.probe import EventProbe

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install -y chromium); CI installs it",
    ),
]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
KUKAR, YEAR = "64.02", 2026
PASSWORD = "kata-sandi-peramban-1"
MENTOR = "pendamping.kesehatan@kukarkab.example"
LEVELS_WITH_EVIDENCE = {"16": 2, "17": 2, "32": 3, "33": 2, "35": 1, "19": 3, "26": 2}


class Stack:
    def __init__(
        self, amqp_url: str, portal: ServiceProcess, scoring_database: str, mongodb_url: str, mail: MailSink
    ) -> None:
        self.amqp_url = amqp_url
        self.portal = portal
        self.url = f"http://127.0.0.1:{portal.http_port}"
        self.scoring_database = scoring_database
        self.mongodb_url = mongodb_url
        self.mail = mail


@pytest.fixture(scope="module")
async def stack(amqp_url: str, mongodb_url: str) -> AsyncIterator[Stack]:
    """The four services as processes (notification sending to an SMTP sink); a region with four units, its
    profile, four reports."""
    await delete_service_queues(amqp_url)
    mail = MailSink(port=free_port()).start()
    name = f"test_browser_{uuid.uuid4().hex[:8]}"
    common = {"AMQP_URL": amqp_url, "MONGODB_URL": mongodb_url}
    portal = ServiceProcess(
        "inovda-portal",
        {
            **common,
            "MONGODB_DATABASE": f"{name}_p",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(free_port()),
            "SESSION_SECRET": secrets.token_urlsafe(32),
            "SESSION_COOKIE_SECURE": "false",
        },
    )
    processes = [
        ServiceProcess("inovda-submission", {**common, "MONGODB_DATABASE": f"{name}_sub", "INTAKE_AUTH": "off"}),
        ServiceProcess("inovda-scoring", {**common, "MONGODB_DATABASE": f"{name}_s"}),
        ServiceProcess("inovda-notification", {**common, "MONGODB_DATABASE": f"{name}_n", "SMTP_PORT": str(mail.port)}),
        portal,
    ]
    async with portal_accounts(mongodb_url, f"{name}_p") as accounts:
        await accounts.add("brida", "admin", [KUKAR], PASSWORD)
        await accounts.add("pendamping", "mentor", [KUKAR], PASSWORD, email=MENTOR)
        await accounts.add("dinkes", "unit", [KUKAR], PASSWORD, unit_code="DINKES")
        await accounts.add("verifikator", "verifier", [KUKAR], PASSWORD)
    async with processes[0], processes[1], processes[2], processes[3], EventProbe(amqp_url) as events:
        await publish_messages(
            amqp_url,
            [
                IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES", mentor_emails=[MENTOR]), "u1"),
                IntakeMessage.of(
                    "unit.upsert.v1",
                    samples.unit("DISDIK", name="Dinas Pendidikan", mentor_emails=[MENTOR]),
                    "u2",
                ),
                IntakeMessage.of("unit.upsert.v1", samples.unit("DISHUB", name="Dinas Perhubungan"), "u3"),
                IntakeMessage.of(
                    "unit.upsert.v1", samples.unit("KEC-01", name="Kecamatan Muara Muntai", kind="kecamatan"), "u4"
                ),
                IntakeMessage.of("region.profile.v1", samples.profile(), "p1"),
            ],
        )
        await events.wait_for("intake.accepted.*", count=5, timeout=30)
        await publish_messages(
            amqp_url,
            [
                IntakeMessage.of("innovation.report.v1", samples.innovation("INV-1", "DINKES"), "r1"),
                IntakeMessage.of(
                    "innovation.report.v1",
                    samples.innovation("INV-2", "DISDIK", title="Rapor Digital Sekolah", urusan=["pendidikan"]),
                    "r2",
                ),
                IntakeMessage.of(
                    "innovation.report.v1",
                    samples.innovation("INV-3", "DISHUB", title="Terminal Pintar", design="terlalu singkat"),
                    "r3",
                ),
                IntakeMessage.of(
                    "innovation.report.v1",
                    samples.innovation("INV-4", "DINKES", title="Ambulans Desa", stage="uji_coba"),
                    "r4",
                ),
            ],
        )
        await events.wait_for("innovation.scored", count=4, timeout=60)
        await queue_settled(amqp_url)
        yield Stack(amqp_url, portal, f"{name}_s", mongodb_url, mail)
    mail.stop()


async def queue_settled(amqp_url: str) -> None:
    """Until the portal's queue has been empty for a moment: its read model has every event published so far."""
    import aio_pika

    connection = await aio_pika.connect(amqp_url)
    async with connection:
        quiet = 0
        for _ in range(300):
            channel = await connection.channel()
            queue = await channel.declare_queue("portal.events", passive=True)
            await channel.close()
            quiet = quiet + 1 if not queue.declaration_result.message_count else 0
            if quiet >= 5:
                return
            await asyncio.sleep(0.2)
    raise AssertionError("the portal's queue did not settle")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        await launched.close()


async def signed_in_page(browser: Browser, stack: Stack, username: str) -> Page:
    context = await browser.new_context(locale="id-ID", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(f"{stack.url}/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    return page


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def inovda_index(stack: Stack) -> dict[str, object]:
    """What `inovda index` prints, as JSON, from the scoring service's own database."""
    command = [str(Path(sys.executable).parent / "inovda"), "index", "--region", KUKAR, "--year", str(YEAR), "--json"]
    environment = {**os.environ, "SCORING_DATABASE": stack.scoring_database, "MONGODB_URL": stack.mongodb_url}
    figures: dict[str, object] = json.loads(
        subprocess.run(command, env=environment, check=True, capture_output=True).stdout
    )
    return figures


def indonesian(value: object) -> str:
    return f"{float(str(value)):.2f}".replace(".", ",")


async def test_the_office_sees_the_index_inovda_index_prints_and_its_compliance(browser: Browser, stack: Stack) -> None:
    login = await (await browser.new_context()).new_page()
    await login.goto(f"{stack.url}/masuk")
    await shot(login, "login")

    page = await signed_in_page(browser, stack, "brida")
    figures = inovda_index(stack)
    await expect(page.get_by_test_id("iid")).to_have_text(indonesian(figures["iid"]))
    await expect(page.get_by_test_id("predicate")).to_have_text(str(figures["predicate"]))
    await shot(page, "overview")

    await page.click("nav.region >> text=Kepatuhan unit")
    await expect(page.get_by_test_id("compliant-count")).to_have_text("3")
    first_row = page.locator("[data-testid=compliance] tbody tr").first
    await expect(first_row).to_contain_text("Kecamatan Muara Muntai")  # units without an innovation first
    await shot(page, "compliance")
    async with page.expect_download() as downloading:
        await page.click("text=CSV")
    downloaded = await (await downloading.value).path()
    rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(Path(downloaded).read_text, "utf-8-sig"))))
    assert {row["Kode unit"]: row["Inovasi dilaporkan"] for row in rows} == {
        "KEC-01": "0",
        "DINKES": "2",
        "DISDIK": "1",
        "DISHUB": "1",
    }
    async with page.expect_download() as downloading:
        await page.click("text=XLSX")
    workbook = await asyncio.to_thread(Path(await (await downloading.value).path()).read_bytes)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook)).active
    assert sheet is not None
    assert sheet.max_row == 5

    await page.click("text=Dinas Kesehatan")
    await expect(page.get_by_test_id("innovations")).to_contain_text("Posyandu Digital Kukar")
    await shot(page, "unit")
    await page.click("text=Posyandu Digital Kukar")
    await expect(page.get_by_test_id("score")).to_contain_text("memenuhi syarat")
    await shot(page, "innovation")


async def test_the_what_if_changes_the_index(browser: Browser, stack: Stack) -> None:
    page = await signed_in_page(browser, stack, "brida")
    await page.click("nav.region >> text=Simulasi")
    await page.select_option("select[name=spd-15]", "3")
    await page.fill("input[name=add-count]", "6")
    await page.fill("input[name=add-maturity]", "70")
    await page.click("button:has-text('Hitung')")
    before = await page.get_by_test_id("iid-before").inner_text()
    after = await page.get_by_test_id("iid-after").inner_text()
    assert float(after.replace(",", ".")) > float(before.replace(",", "."))
    assert before == indonesian(inovda_index(stack)["iid"])
    await shot(page, "whatif")


async def test_a_mentor_sees_only_the_units_it_mentors(browser: Browser, stack: Stack) -> None:
    page = await signed_in_page(browser, stack, "pendamping")
    await page.click("nav.region >> text=Kepatuhan unit")
    codes = await page.locator("[data-testid=compliance] tbody .code").all_inner_texts()
    assert sorted(codes) == ["DINKES", "DISDIK"]
    await shot(page, "compliance_mentor")


async def fill_report(page: Page, title: str, evidence_uri: str) -> None:
    body = samples.innovation("ignored", "DINKES", title=title)
    await page.fill("#title", title)
    for name in ("form", "type", "initiator", "stage"):
        await page.select_option(f"#{name}", str(body[name]))
    await page.fill("#applied_on", str(body["applied_on"]))
    await page.check("input[name=urusan][value=kesehatan]")
    for name in ("design", "goals", "benefits"):
        await page.fill(f"#{name}", str(body[name]))
    for indicator_id, level in LEVELS_WITH_EVIDENCE.items():
        await page.select_option(f"select[name=ind-{indicator_id}-level]", str(level))
        await page.fill(f"input[name=ind-{indicator_id}-ev-0-title]", f"Data dukung {indicator_id}")
        await page.fill(f"input[name=ind-{indicator_id}-ev-0-uri]", evidence_uri)
    await page.select_option("select[name=ind-33-basis]", "a")


async def test_a_unit_reports_sees_it_scored_and_cannot_open_another_unit(browser: Browser, stack: Stack) -> None:
    page = await signed_in_page(browser, stack, "dinkes")
    assert "/unit/DINKES" in page.url
    another = await page.goto(f"{stack.url}/wilayah/{KUKAR}/unit/DISHUB?tahun={YEAR}")
    assert another is not None
    assert another.status == 404
    await expect(page.locator("h1")).to_have_text("Halaman tidak ditemukan")
    await shot(page, "not_found")
    overview = await page.goto(f"{stack.url}/wilayah/{KUKAR}/{YEAR}")
    assert overview is not None
    assert overview.status == 404

    await page.goto(f"{stack.url}/wilayah/{KUKAR}/unit/DINKES?tahun={YEAR}")
    await page.click("text=Laporkan inovasi baru")
    await fill_report(page, "Layanan Antar Obat Puskesmas", "https://inovasi.kukarkab.example/bukti.pdf")
    await shot(page, "report_form")
    await page.click("button:has-text('Kirim laporan')")
    await expect(page.get_by_test_id("scored")).to_be_visible(timeout=60_000)  # the page refreshes itself
    await shot(page, "report_status")
    await page.click("text=Lihat inovasi")
    await expect(page.get_by_test_id("score")).to_contain_text("Kematangan")
    await shot(page, "innovation_reported")


async def test_a_rejected_report_shows_the_reason_beside_the_field(browser: Browser, stack: Stack) -> None:
    page = await signed_in_page(browser, stack, "dinkes")
    await page.goto(f"{stack.url}/wilayah/{KUKAR}/unit/DINKES/lapor?tahun={YEAR}")
    await fill_report(page, "Posyandu Keliling", "bukan-tautan")
    await page.click("button:has-text('Kirim laporan')")
    problem = page.locator(".field-problem[data-field='ind-16-ev-0-uri']")
    await expect(problem).to_be_visible(timeout=60_000)
    await expect(problem).to_contain_text("Tautan")
    await expect(page.locator("input[name=ind-16-ev-0-uri]")).to_have_value("bukan-tautan")
    await shot(page, "report_rejected")
    assert re.search(r"/laporan/[0-9a-f]{32}$", page.url)


async def report_through_the_portal(page: Page, stack: Stack, title: str) -> str:
    """The unit reports a new innovation through the form; the innovation page's path once it is scored."""
    await page.goto(f"{stack.url}/wilayah/{KUKAR}/unit/DINKES/lapor?tahun={YEAR}")
    await fill_report(page, title, "https://inovasi.kukarkab.example/bukti.pdf")
    await page.click("button:has-text('Kirim laporan')")
    await expect(page.get_by_test_id("scored")).to_be_visible(timeout=60_000)
    await page.click("text=Lihat inovasi")
    return page.url.removeprefix(stack.url)


async def test_a_verifier_refuses_evidence_the_unit_sees_why_revises_and_the_indicator_is_unreviewed_again(
    browser: Browser, stack: Stack
) -> None:
    unit = await signed_in_page(browser, stack, "dinkes")
    innovation = await report_through_the_portal(unit, stack, "Klinik Keliling Sehat")

    verifier = await signed_in_page(browser, stack, "verifikator")
    await verifier.click("nav.region >> text=Verifikasi")
    queue = verifier.get_by_test_id("review-queue")
    await expect(queue).to_contain_text("Klinik Keliling Sehat")
    await shot(verifier, "review_queue")
    await verifier.goto(f"{stack.url}{innovation}/verifikasi")
    for indicator_id in LEVELS_WITH_EVIDENCE:
        await verifier.select_option(f"select[name=ind-{indicator_id}-keputusan]", "accepted")
    await verifier.select_option("select[name=ind-35-keputusan]", "not_accepted")
    await verifier.select_option("select[name=ind-35-alasan]", "evidence_unreadable")
    await verifier.fill("input[name=ind-35-catatan]", "Video tidak dapat diputar")
    await shot(verifier, "review_form")
    await verifier.click("button:has-text('Kirim keputusan verifikasi')")
    await expect(verifier.get_by_test_id("scored")).to_be_visible(timeout=60_000)  # the page refreshes itself
    await expect(verifier.get_by_test_id("accepted")).to_contain_text("putaran 1")

    # One email for the round, to the unit with its mentor in copy, naming the refusal and its fix.
    key = f"review:portal/{innovation.rsplit('/', 1)[-1]}:v1"
    for _ in range(300):
        if stack.mail.with_key(key):
            break
        await asyncio.sleep(0.1)
    [email] = stack.mail.with_key(key)
    assert sorted(email.envelope_to) == sorted(["dinkes@kukarkab.example", MENTOR])
    assert "Indikator 35 (Video inovasi): tidak diterima, karena data dukung tidak dapat dibuka" in email.part("plain")

    office = await signed_in_page(browser, stack, "brida")
    await expect(office.get_by_test_id("verified-iid")).to_be_visible()
    figures = inovda_index(stack)
    verified = figures["verified"]
    assert isinstance(verified, dict)
    await expect(office.get_by_test_id("verified-iid")).to_have_text(indonesian(verified["iid"]))
    await expect(office.get_by_test_id("iid")).to_have_text(indonesian(figures["iid"]))
    await shot(office, "overview_verified")
    await office.click("nav.region >> text=Kepatuhan unit")
    dinkes = office.locator("[data-testid=compliance] tbody tr", has_text="Dinas Kesehatan")
    await expect(dinkes.get_by_test_id("points-lost")).to_be_visible()

    await unit.goto(f"{stack.url}{innovation}")
    refusal = unit.get_by_test_id("decision-35").first
    await expect(refusal).to_contain_text("Tidak diterima")
    await expect(refusal).to_contain_text("data dukung tidak dapat dibuka atau dibaca")
    await expect(refusal).to_contain_text("Video tidak dapat diputar")
    await shot(unit, "innovation_reviewed")

    await unit.click("text=Kirim revisi")
    await unit.fill("input[name=ind-35-ev-0-uri]", "https://inovasi.kukarkab.example/video-baru.mp4")
    await unit.click("button:has-text('Kirim laporan')")
    await expect(unit.get_by_test_id("scored")).to_be_visible(timeout=60_000)
    await unit.click("text=Lihat inovasi")
    latest = unit.locator("[data-testid=revision-2]")
    await expect(latest.get_by_test_id("decision-35")).to_have_text("Belum diverifikasi")
    await expect(latest.get_by_test_id("decision-16")).to_contain_text("Diterima")
    await shot(unit, "innovation_revised")
    await verifier.goto(f"{stack.url}/wilayah/{KUKAR}/{YEAR}/verifikasi")
    await expect(verifier.get_by_test_id("review-queue")).to_contain_text("Klinik Keliling Sehat")
