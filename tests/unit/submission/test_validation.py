"""Validation and normalisation of intake messages: pure, no infrastructure."""

import json
from typing import Any

import pytest

from inovda_cli import samples
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_submission.domain.records import content_hash, message_key
from inovda_submission.domain.validation import MAX_BODY_BYTES, Rejection, parse_intake, rubric_rejection


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def rejected(routing_key: str, body: bytes) -> Rejection:
    result = parse_intake(routing_key, body)
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return result


def codes(rejection: Rejection) -> set[tuple[str, str]]:
    return {(reason.field, reason.code) for reason in rejection.reasons}


def test_accepts_each_kind_of_message() -> None:
    assert isinstance(parse_intake("unit.upsert.v1", encode(samples.unit())), UnitUpsert)
    assert isinstance(parse_intake("region.profile.v1", encode(samples.profile())), RegionProfile)
    assert isinstance(parse_intake("innovation.report.v1", encode(samples.innovation())), InnovationReport)


def test_normalises_strings_emails_and_lists() -> None:
    body = samples.unit(name="  Dinas Kesehatan  ", emails=["Dinkes@KukarKab.example", "dinkes@kukarkab.example"])
    unit = parse_intake("unit.upsert.v1", encode(body))
    assert isinstance(unit, UnitUpsert)
    assert unit.name == "Dinas Kesehatan"
    assert unit.emails == ["dinkes@kukarkab.example"]
    assert unit.active is True
    report = parse_intake("innovation.report.v1", encode(samples.innovation(urusan=["sosial", "kesehatan", "sosial"])))
    assert isinstance(report, InnovationReport)
    assert report.urusan == ["sosial", "kesehatan"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", ("$", "invalid_json")),
        (b"\xff\xfe{}", ("$", "invalid_encoding")),
        (b"[1, 2]", ("$", "wrong_type")),
        (b'{"level": NaN}', ("$", "invalid_json")),
        (b'{"a": 1, "a": 2}', ("$", "invalid_json")),
        (b" " * (MAX_BODY_BYTES + 1), ("$", "too_large")),
    ],
    ids=["undecodable", "not-utf8", "not-an-object", "nan", "duplicate-key", "over-1MiB"],
)
def test_rejects_unreadable_bodies(body: bytes, expected: tuple[str, str]) -> None:
    assert expected in codes(rejected("innovation.report.v1", body))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"year": "2026"}, ("year", "wrong_type")),
        ({"stage": "selesai"}, ("stage", "unknown_value")),
        ({"form": "PELAYANAN_PUBLIK"}, ("form", "unknown_value")),
        ({"urusan": ["kesehatan", "olahraga_ekstrem"]}, ("urusan.1", "unknown_value")),
        ({"urusan": []}, ("urusan", "invalid_length")),
        ({"colour": "red"}, ("colour", "unknown_field")),
        ({"indicators": {"99": {"level": 2, "evidence": []}}}, ("indicators.99", "unknown_indicator")),
        ({"indicators": {"16": {"level": 4, "evidence": []}}}, ("indicators.16.level", "out_of_range")),
        ({"indicators": {"16": {"level": 0, "evidence": []}}}, ("indicators.16.level", "out_of_range")),
        ({"indicators": {"16": {"level": True, "evidence": []}}}, ("indicators.16.level", "wrong_type")),
        ({"indicators": {"33": {"level": 2, "evidence": []}}}, ("indicators.33.basis", "missing")),
        ({"indicators": {"16": {"level": 2, "basis": "a"}}}, ("indicators.16.basis", "unknown_field")),
        (
            {"indicators": {"16": {"level": 2, "evidence": [{"title": "x", "uri": "ftp://a"}]}}},
            ("indicators.16.evidence.0.uri", "invalid_uri"),
        ),
        ({"applied_on": None}, ("applied_on", "missing")),
        ({"applied_on": "0000-01-01"}, ("applied_on", "invalid_date")),
        ({"applied_on": "9999-12-31"}, ("applied_on", "out_of_range")),
        ({"applied_on": "2024-02-30"}, ("applied_on", "invalid_date")),
        ({"title": "Judul\r\nBcc: korban@example.com"}, ("title", "control_character")),
        ({"source": "E-Inovasi!"}, ("source", "invalid_format")),
        ({"region_code": "kukar"}, ("region_code", "invalid_format")),
    ],
)
def test_rejects_invalid_innovation_fields(change: dict[str, Any], expected: tuple[str, str]) -> None:
    rejection = rejected("innovation.report.v1", encode(samples.innovation(**change)))
    assert expected in codes(rejection), rejection.reasons
    assert all(reason.message for reason in rejection.reasons)


def test_reports_every_problem_at_once() -> None:
    body = samples.innovation(stage="selesai", type="analog")
    del body["title"]
    assert {("stage", "unknown_value"), ("type", "unknown_value"), ("title", "missing")} <= codes(
        rejected("innovation.report.v1", encode(body))
    )


def test_missing_required_field_names_it() -> None:
    body = samples.unit()
    del body["emails"]
    assert ("emails", "missing") in codes(rejected("unit.upsert.v1", encode(body)))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"$where": "1"}, ("$where", "forbidden_key")),
        (
            {"indicators": {"16": {"level": 2, "evidence": [{"$gt": ""}]}}},
            ("indicators.16.evidence[0].$gt", "forbidden_key"),
        ),
        ({"spd": {"a.b": 1}}, ("spd.a.b", "forbidden_key")),
    ],
)
def test_rejects_keys_mongodb_would_interpret(body: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in codes(rejected("innovation.report.v1", encode(samples.innovation(**body))))


def test_rejects_unknown_spd_indicator_and_bad_email() -> None:
    body = samples.profile(spd={"1": 3, "16": 2}, admin_emails=["brida@@kukar"])
    assert {("spd.16", "unknown_indicator"), ("admin_emails.0", "invalid_email")} <= codes(
        rejected("region.profile.v1", encode(body))
    )


def test_unknown_routing_key_keeps_what_it_can_read() -> None:
    rejection = rejected("innovation.delete.v1", encode(samples.innovation()))
    assert codes(rejection) == {("$routing_key", "unknown_routing_key")}
    assert rejection.source == "e-inovasi"
    assert rejection.key["external_id"] == "INV-001"
    assert rejection.unit_code == "DINKES"


def test_unreadable_source_is_unknown() -> None:
    assert rejected("unit.upsert.v1", b"{oops").source == "unknown"
    assert rejected("unit.upsert.v1", encode(samples.unit(source="../../etc", kind="x"))).source == "unknown"


def test_content_hash_ignores_key_order_and_whitespace() -> None:
    first = parse_intake("innovation.report.v1", encode(samples.innovation()))
    body = samples.innovation(title="  Posyandu Digital Kukar ")
    reordered = dict(reversed(list(body.items())))
    second = parse_intake("innovation.report.v1", encode(reordered))
    assert isinstance(first, InnovationReport)
    assert isinstance(second, InnovationReport)
    assert content_hash(first) == content_hash(second)
    changed = parse_intake("innovation.report.v1", encode(samples.innovation(title="Posyandu Digital 2")))
    assert isinstance(changed, InnovationReport)
    assert content_hash(changed) != content_hash(first)


def test_message_key_uses_the_senders_id_else_the_content() -> None:
    assert message_key("r", "a", "m1", b"x") == message_key("r", "a", "m1", b"y")
    assert message_key("r", "a", "m1", b"x") != message_key("r", "b", "m1", b"x")
    assert message_key("r", "a", None, b"x") == message_key("r", "a", None, b"x")
    assert message_key("r", "a", None, b"x") != message_key("r", "a", None, b"y")


def test_the_key_of_a_body_without_message_id_is_scoped_by_its_source() -> None:
    """Another source sending the same body first must not have the real one dropped as already handled."""
    assert message_key("r", "simpeg", None, b"x") != message_key("r", "unknown", None, b"x")
    assert message_key("r", "simpeg", None, b"x") != message_key("r", "bappeda", None, b"x")


def test_a_year_without_a_rubric_is_rejected_for_profiles_and_innovations_only() -> None:
    years = {2025, 2026}
    for routing_key, body in (
        ("region.profile.v1", samples.profile(2027)),
        ("innovation.report.v1", samples.innovation(year=2027)),
    ):
        model = parse_intake(routing_key, encode(body))
        assert not isinstance(model, Rejection)
        rejection = rubric_rejection(model, years)
        assert rejection is not None
        assert codes(rejection) == {("year", "no_rubric_for_year")}
        assert "2025, 2026" in rejection.reasons[0].message
        assert not rejection.refused, "the unit is told why: it is the message's fault, not the sender's right"
    for routing_key, body in (("region.profile.v1", samples.profile(2026)), ("unit.upsert.v1", samples.unit())):
        model = parse_intake(routing_key, encode(body))
        assert not isinstance(model, Rejection)
        assert rubric_rejection(model, years) is None
