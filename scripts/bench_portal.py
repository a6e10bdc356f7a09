"""The portal's pages under a large region, for `make bench` (`scripts/bench.py` runs it; it also runs alone).

A region of `units` units and `innovations` innovations (scored, spread over the units, an index version for
each), built with the portal's own projection and stored in a `bench_portal` database; the portal as a real
process on it; then the overview and the compliance page fetched one after another by a signed-in office,
each `requests` times, beside the same server's `/health/live` as the baseline of one HTTP round trip.

    .venv/bin/python scripts/bench_portal.py [--units 500] [--innovations 1000] [--requests 60]
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

import bench_cost  # its sibling script (the script's folder is on the path)
import httpx

from inovda_cli import samples
from inovda_cli.portal_users import portal_accounts
from inovda_cli.processes import ServiceProcess
from inovda_portal.adapters.store import PortalStore
from inovda_portal.domain import projection
from inovda_portal.domain.model import InnovationRecord, RegionDirectory, RegionYear
from inovda_scoring.domain import load_rubric, score_innovation
from inovda_scoring.domain.potential import top_improvements
from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_shared.mongo import connect

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
MONGODB_URL = os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
DATABASE = "bench_portal"
REGION, YEAR = "64.02", 2026
PASSWORD = secrets.token_urlsafe(16)
KINDS = ("opd", "kecamatan", "kelurahan", "desa", "puskesmas", "rsud", "bumdes")
AFFAIRS = ("kesehatan", "pendidikan", "sosial", "pertanian", "perhubungan", "pekerjaan_umum_penataan_ruang")
TARGET_P95_MS = 300.0


@dataclass(frozen=True)
class PageTimes:
    name: str
    ms: list[float]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _at(minutes: int) -> dt.datetime:
    return dt.datetime(2026, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)


def built_region(units: int, innovations: int) -> tuple[RegionDirectory, RegionYear, list[InnovationRecord]]:
    """The region as the portal's projection leaves it after these events (in memory, then stored once)."""
    rubric = load_rubric(YEAR)
    directory = RegionDirectory(region_code=REGION)
    codes = [f"U{number:04d}" for number in range(units)]
    for number, code in enumerate(codes):
        body = samples.unit(code, name=f"Unit {number:04d}", kind=KINDS[number % len(KINDS)])
        event = UnitRegistered(version=1, unit=UnitUpsert.model_validate_json(json.dumps(body)), registered_at=_at(0))
        directory = projection.unit_registered(directory, event) or directory
    directory = projection.with_year(directory, YEAR) or directory
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile()))
    profiled = projection.profile_updated(
        RegionYear(region_code=REGION, year=YEAR), RegionProfileUpdated(version=1, profile=profile, updated_at=_at(0))
    )
    assert profiled is not None
    region = profiled
    records = []
    counts: dict[str, list[int]] = {}
    for number in range(innovations):
        unit = codes[(number * 7) % max(1, units * 4 // 5)]  # a fifth of the units report nothing
        body = samples.innovation(
            f"BENCH-{number:05d}", unit, title=f"Inovasi {number:05d}", urusan=[AFFAIRS[number % len(AFFAIRS)]]
        )
        report = InnovationReport.model_validate_json(json.dumps(body))
        score = score_innovation(report, rubric)
        record = InnovationRecord(source=report.source, external_id=report.external_id)
        submitted = InnovationSubmitted(revision=1, innovation=report, submitted_at=_at(number))
        record = projection.record_submitted(record, submitted) or record
        region = projection.region_submitted(region, submitted) or region
        scored = InnovationScored(
            source=report.source,
            external_id=report.external_id,
            unit_code=unit,
            region_code=REGION,
            year=YEAR,
            revision=1,
            title=report.title,
            maturity=score.maturity,
            indicators={key: value.model_dump() for key, value in score.indicators.items()},
            eligible=score.eligible,
            ineligible_reasons=list(score.ineligible_reasons),
            top_improvements=[item.model_dump() for item in top_improvements(score, rubric)],
        )
        records.append(projection.record_scored(record, scored) or record)
        region = projection.region_scored(region, scored) or region
        tally = counts.setdefault(unit, [0, 0])
        tally[0] += 1
        tally[1] += int(score.eligible)
        index = RegionIndexUpdated.model_validate(
            {
                "region_code": REGION, "year": YEAR, "version": number + 1, "spd": 40.0, "n": tally[1],
                "divisor": 12, "average_maturity": 50.0, "count_score": 0.0, "yandas_covered": list(AFFAIRS[:5]),
                "yandas_missing": [AFFAIRS[5]], "iid": 40 + number * 0.02, "predicate": "Inovatif", "assumed": [],
                "path": [],
            }
        )  # fmt: skip
        region = projection.index_updated(region, index, _at(number)) or region
    for version, (unit, (reported, eligible)) in enumerate(counts.items(), start=1):
        update = UnitComplianceUpdated(
            region_code=REGION, year=YEAR, unit_code=unit, version=version, innovations=reported, eligible=eligible,
            compliant=True,
        )  # fmt: skip
        region = projection.compliance_updated(region, update) or region
    return directory, region, records


async def seed(units: int, innovations: int) -> float:
    started = time.perf_counter()
    directory, region, records = await asyncio.to_thread(built_region, units, innovations)
    client = connect(MONGODB_URL)
    try:
        await client.drop_database(DATABASE)
        store = PortalStore(client[DATABASE])
        await store.save_directory(directory)
        await store.save_region_year(region)
        for record in records:
            await store.save_innovation(record)
    finally:
        await client.close()
    async with portal_accounts(MONGODB_URL, DATABASE) as accounts:
        await accounts.add("bench-office", "admin", [REGION], PASSWORD)
    return time.perf_counter() - started


async def timed(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {answer.status_code}")
    return times


@dataclass(frozen=True)
class PortalRun:
    seeded_seconds: float
    pages: list[PageTimes]
    peak_rss_mb: float | None  # the portal process's, after every page was timed


async def measure(units: int, innovations: int, requests: int) -> PortalRun:
    seeded = await seed(units, innovations)
    env = {
        "AMQP_URL": AMQP_URL,
        "MONGODB_URL": MONGODB_URL,
        "MONGODB_DATABASE": DATABASE,
        "HTTP_HOST": "127.0.0.1",
        "SESSION_SECRET": secrets.token_urlsafe(32),
        "SESSION_COOKIE_SECURE": "false",
        "LOG_LEVEL": "WARNING",
    }
    try:
        async with ServiceProcess("inovda-portal", env) as portal:
            base = f"http://127.0.0.1:{portal.http_port}"
            async with httpx.AsyncClient(base_url=base, follow_redirects=True, timeout=60) as client:
                token = re.search(r'name="csrf_token" value="([^"]+)"', (await client.get("/masuk")).text)
                assert token is not None
                data = {"csrf_token": token.group(1), "username": "bench-office", "password": PASSWORD}
                await client.post("/masuk", data=data)
                pages = {
                    "health (baseline: one HTTP round trip)": "/health/live",
                    "overview": f"/wilayah/{REGION}/{YEAR}",
                    "compliance": f"/wilayah/{REGION}/{YEAR}/kepatuhan",
                }
                for path in pages.values():  # warm up: imports, templates, the first connection
                    await timed(client, path, 3)
                times = [PageTimes(name, await timed(client, path, requests)) for name, path in pages.items()]
                return PortalRun(seeded, times, bench_cost.peak_rss_mb(portal.process.pid))
    finally:
        client_ = connect(MONGODB_URL)
        await client_.drop_database(DATABASE)
        await client_.close()


def table(units: int, innovations: int, run: PortalRun) -> list[tuple[str, str, str, str]]:
    pages = run.pages
    baseline = pages[0].percentile(0.5)
    rows = []
    for page in pages:
        p50, p95 = page.percentile(0.5), page.percentile(0.95)
        is_page = page is not pages[0]
        rows.append(
            (
                f"portal {page.name}, {units} units / {innovations} innovations, ms p50/p95 (n={len(page.ms)})",
                f"{p50:.0f} / {p95:.0f}" + (f" ({p50 / baseline:.0f} x baseline p50)" if is_page else ""),
                f"p95 < {TARGET_P95_MS:.0f} ms" if is_page else "baseline",
                bench_cost.verdict(p95 < TARGET_P95_MS) if is_page else "",
            )
        )
    rows.append(("portal region seeded (projection, then stored once), s", f"{run.seeded_seconds:.1f}", "", ""))
    rows.append(bench_cost.rss_row("inovda-portal", run.peak_rss_mb, " after the pages"))
    return rows


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--innovations", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args(argv)
    run = await measure(args.units, args.innovations, args.requests)
    print("| measurement | figure | target | verdict |")
    print("|---|---|---|---|")
    for row in table(args.units, args.innovations, run):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
