"""`inovda-submission` and two `inovda-scoring` replicas as real processes, and the `inovda` CLI."""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inovda_cli import samples
from inovda_cli.processes import ServiceProcess
from inovda_cli.publish import IntakeMessage, publish_messages
from tests.support.probe import EventProbe

pytestmark = pytest.mark.e2e

AFFAIRS = [
    "pendidikan",
    "kesehatan",
    "pekerjaan_umum_penataan_ruang",
    "perumahan_kawasan_permukiman",
    "sosial",
    "pertanian",
]


@pytest.fixture
async def pipeline(clean_broker: str, mongodb_url: str, drop_database: str) -> AsyncIterator[dict[str, str]]:
    scoring_database = f"{drop_database}_scoring"
    common = {"AMQP_URL": clean_broker, "MONGODB_URL": mongodb_url}
    submission = ServiceProcess(
        "inovda-submission", {**common, "MONGODB_DATABASE": drop_database, "INTAKE_AUTH": "off"}
    )
    scoring = [ServiceProcess("inovda-scoring", {**common, "MONGODB_DATABASE": scoring_database}) for _ in range(2)]
    async with submission, scoring[0], scoring[1]:
        yield {**common, "SCORING_DATABASE": scoring_database}


def innovation(number: int) -> dict[str, object]:
    indicators = samples.innovation()["indicators"]
    indicators["19"] = {"level": 1 + number % 3, "evidence": samples.evidence("Tangkapan layar")}
    return samples.innovation(
        f"E2E-{number:02d}",
        title=f"Inovasi {number}",
        unit_code="DINKES" if number % 2 else "DISDIK",
        urusan=[AFFAIRS[number % len(AFFAIRS)]],
        indicators=indicators,
    )


async def test_reports_become_a_scored_index_and_a_path(pipeline: dict[str, str]) -> None:
    amqp_url = pipeline["AMQP_URL"]
    async with EventProbe(amqp_url) as events:
        await publish_messages(
            amqp_url,
            [
                IntakeMessage.of("unit.upsert.v1", samples.unit("DINKES"), uuid.uuid4().hex),
                IntakeMessage.of("unit.upsert.v1", samples.unit("DISDIK", name="Dinas Pendidikan"), uuid.uuid4().hex),
                IntakeMessage.of("region.profile.v1", samples.profile(), uuid.uuid4().hex),
            ],
        )
        await events.wait_for("intake.accepted.*", count=3)
        reports = [IntakeMessage.of("innovation.report.v1", innovation(n), uuid.uuid4().hex) for n in range(20)]
        await publish_messages(amqp_url, reports)

        scored = await events.wait_for("innovation.scored", count=20, timeout=60)
        assert {event.body["external_id"] for event in scored} == {f"E2E-{n:02d}" for n in range(20)}
        final = await events.wait_for(
            "region.index.updated", lambda body: body["n"] == 20 and len(body["yandas_covered"]) == 5, timeout=30
        )
        index = final[-1].body
        # 20 eligible innovations over 5 of the 6 basic-service affairs: the count score is on.
        assert index["divisor"] == 20
        assert index["count_score"] == pytest.approx(20 * 0.38)
        assert index["yandas_missing"] == ["ketenteraman_ketertiban_umum_pelindungan_masyarakat"]
        compliance = {event.body["unit_code"]: event.body for event in events.matching("unit.compliance.updated")}
        assert compliance["DINKES"]["compliant"]
        assert compliance["DISDIK"]["compliant"]

    env = {**os.environ, **pipeline}
    inovda = str(Path(sys.executable).parent / "inovda")
    shown = subprocess.run(
        [inovda, "index", "--region", "64.02", "--year", "2026"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert f"IID {index['iid']:.2f}".replace(".", ",") in shown
    path = subprocess.run(
        [inovda, "path", "--region", "64.02", "--year", "2026"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "Target:" in path
    assert "Total:" in path
