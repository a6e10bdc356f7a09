"""The committed AsyncAPI documents are what `faststream docs gen` makes of the services' real apps now."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inovda_shared.topology import PUBLISHES

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ["submission", "scoring", "notification", "portal"]


@pytest.mark.parametrize("service", SERVICES)
def test_committed_asyncapi_is_up_to_date(service: str, tmp_path: Path) -> None:
    generated = tmp_path / f"{service}.yaml"
    faststream = Path(sys.executable).parent / "faststream"
    subprocess.run(
        [
            str(faststream),
            "docs",
            "gen",
            "--factory",
            f"inovda_{service}.app:asyncapi_app",
            "--yaml",
            "-o",
            str(generated),
        ],
        check=True,
        capture_output=True,
    )
    committed = ROOT / "deploy" / "asyncapi" / f"{service}.yaml"
    # Compared as data: FastStream lists channels in no fixed order.
    assert yaml.safe_load(generated.read_text()) == yaml.safe_load(committed.read_text()), (
        f"run `make asyncapi` and commit {committed}"
    )


def test_every_intake_routing_key_and_event_is_documented() -> None:
    submission = yaml.safe_load((ROOT / "deploy" / "asyncapi" / "submission.yaml").read_text())
    intake = submission["channels"]["submission.intake"]
    for routing_key in ("unit.upsert.v1", "region.profile.v1", "innovation.report.v1"):
        assert f"`{routing_key}`" in intake["description"]
    schemas = submission["components"]["schemas"]
    # The intake handlers take raw bytes, documented as the contract models (nested models written out).
    report = schemas["OnInnovationReport:Message:Payload"]
    assert "external_id" in report["required"]
    assert "evidence" in report["properties"]["indicators"]["additionalProperties"]["properties"]
    addresses = {channel["address"] for channel in submission["channels"].values()}
    assert {"innovation.submitted", "unit.registered", "intake.accepted.{source}"} <= addresses
    scoring = yaml.safe_load((ROOT / "deploy" / "asyncapi" / "scoring.yaml").read_text())
    addresses = {channel["address"] for channel in scoring["channels"].values()}
    assert {"innovation.scored", "region.index.updated", "unit.compliance.updated"} <= addresses


@pytest.mark.parametrize("service", SERVICES)
def test_what_a_service_publishes_is_what_its_broker_user_may_publish(service: str) -> None:
    """The AsyncAPI documents are the services' own `publishes` declarations; the topic permissions of their
    broker users come from `inovda_shared.topology.PUBLISHES`: the two say the same."""
    document = yaml.safe_load((ROOT / "deploy" / "asyncapi" / f"{service}.yaml").read_text())
    published: dict[str, set[str]] = {}
    for name, channel in document["channels"].items():
        exchange, separator, _ = name.partition(":")
        if separator:  # a publisher's channel, `<exchange>:<routing key>`; a subscriber's is its queue's name
            published.setdefault(exchange, set()).add(channel["address"])
    assert published == {exchange: set(keys) for exchange, keys in PUBLISHES[service].items()}
