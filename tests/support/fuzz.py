"""Bad input for the intake: a hand-written corpus of nasty messages, hypothesis strategies for more, and the
properties every verdict and every stored document must have. Used by the unit fuzz test (the pure
parse/validate layer) and the integration fuzz test (the service as a real process)."""

import datetime as dt
import json
import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from inovda_cli import samples
from inovda_notification.domain import EXPLANATIONS
from inovda_shared.contracts.events import UNKNOWN_SOURCE
from inovda_shared.contracts.intake import INTAKE_MODELS, IntakeModel
from inovda_shared.contracts.vocabulary import GOVERNMENT_AFFAIRS, SID_INDICATOR_IDS, SPD_INDICATOR_IDS
from inovda_submission.domain.validation import MAX_BODY_BYTES, Rejection, parse_intake

UNIT, PROFILE, INNOVATION = "unit.upsert.v1", "region.profile.v1", "innovation.report.v1"
ACCEPTED = "accepted"
# Codes only the service adds, after looking at what is stored.
SERVICE_CODES = frozenset({"unknown_unit", "immutable_field", "no_rubric_for_year"})
# Every code the notification service can explain to a unit: the parse layer answers with no other.
PARSE_CODES = frozenset(EXPLANATIONS) - SERVICE_CODES
# Generous for an answer of MAX_REASONS reasons; an unbounded one reached 32 MB, past MongoDB's 16 MiB.
MAX_ANSWER_BYTES = 64 * 1024
LONG_TEXTS = frozenset({"design", "goals", "benefits", "results"})
EMAIL_LISTS = frozenset({"emails", "mentor_emails", "admin_emails"})
# A source as the contract has it: also the last word of the answer's routing key, `intake.rejected.<source>`.
SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_EMAIL = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+")
_LINE_BREAKS_ALLOWED = frozenset("\t\n\r")


@dataclass(frozen=True)
class Nasty:
    """A message and what it must get: `accepted`, or a rejection with this reason code among others."""

    name: str
    routing_key: str
    body: bytes
    expect: str


# --- the corpus --------------------------------------------------------------------------------------------


def as_json(body: Any) -> bytes:
    return json.dumps(body).encode()


def raw_innovation(**raw_values: str) -> bytes:
    """An innovation whose named fields hold raw JSON text (NaN, escapes, huge numbers, duplicate keys)."""
    text = json.dumps(samples.innovation(**{name: f"<raw {name}>" for name in raw_values}))
    for name, raw in raw_values.items():
        text = text.replace(json.dumps(f"<raw {name}>"), raw)
    return text.encode()


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def largest_valid_innovation() -> dict[str, Any]:
    """Every list and text at (or near) its limit, under 1 MiB: 20 indicators of 50 evidence items each."""
    evidence = [
        {"title": f"Dokumen {number} " + "x" * 280, "uri": f"https://inovasi.kukarkab.example/{number}/" + "d" * 400}
        for number in range(50)
    ]
    indicators = {str(number): {"level": 3, "evidence": evidence} for number in range(16, 36)}
    indicators["33"]["basis"] = "f"
    words = " ".join(["kata"] * 9_000)  # 44,999 characters
    return samples.innovation(
        external_id="INV-LARGEST",
        title="T" * 300,
        urusan=sorted(GOVERNMENT_AFFAIRS)[:40],
        design=words,
        goals=words,
        benefits=words,
        results=words,
        indicators=indicators,
    )


def padded_to(body: bytes, size: int) -> bytes:
    """The same JSON document, with whitespace after it up to `size` bytes."""
    return body + b" " * (size - len(body))


def inn(**changes: Any) -> bytes:
    return as_json(samples.innovation(**changes))


def unit(unit_code: str = "DINKES", **changes: Any) -> bytes:
    return as_json(samples.unit(unit_code, **changes))


def profile(**changes: Any) -> bytes:
    return as_json(samples.profile(**changes))


def with_keys(body: dict[str, Any], extra: dict[str, Any]) -> bytes:
    return as_json(samples.with_fields(body, extra))


def compact(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def evidence_uri(uri: str) -> bytes:
    return inn(indicators={"16": {"level": 2, "evidence": [{"title": "SK", "uri": uri}]}})


def _encodings() -> list[Nasty]:
    text = json.dumps(samples.innovation(title="Kafé Sehat – Ibu & Anak"), ensure_ascii=False)
    utf8 = text.encode()
    return [
        Nasty("empty body", INNOVATION, b"", "invalid_json"),
        Nasty("whitespace only", INNOVATION, b" \r\n\t ", "invalid_json"),
        Nasty("plain text", INNOVATION, b"hello, Inovda", "invalid_json"),
        Nasty("XML", INNOVATION, b"<?xml version='1.0'?><innovation><title>x</title></innovation>", "invalid_json"),
        Nasty("truncated JSON", INNOVATION, utf8[:-7], "invalid_json"),
        Nasty("trailing garbage", INNOVATION, utf8 + b"}", "invalid_json"),
        Nasty("two documents", INNOVATION, utf8 + utf8, "invalid_json"),
        Nasty("single quotes", UNIT, unit().replace(b'"', b"'"), "invalid_json"),
        Nasty("a comment", UNIT, b"// unit\n" + unit(), "invalid_json"),
        Nasty("JSON array", INNOVATION, b"[]", "wrong_type"),
        Nasty("array of messages", INNOVATION, as_json([samples.innovation()]), "wrong_type"),
        Nasty("JSON string", INNOVATION, b'"innovation"', "wrong_type"),
        Nasty("JSON number", INNOVATION, b"2026", "wrong_type"),
        Nasty("JSON null", INNOVATION, b"null", "wrong_type"),
        Nasty("JSON true", INNOVATION, b"true", "wrong_type"),
        Nasty("UTF-8 byte order mark", INNOVATION, b"\xef\xbb\xbf" + utf8, "invalid_json"),
        Nasty("UTF-16 with byte order mark", INNOVATION, text.encode("utf-16"), "invalid_encoding"),
        Nasty("UTF-16 big-endian, no BOM", INNOVATION, text.encode("utf-16-be"), "invalid_encoding"),
        Nasty("UTF-32 with byte order mark", INNOVATION, text.encode("utf-32"), "invalid_encoding"),
        Nasty("Latin-1", INNOVATION, text.encode("latin-1", errors="replace"), "invalid_encoding"),
        Nasty("invalid UTF-8 bytes", INNOVATION, utf8.replace(b"Sehat", b"Sehat\xff\xfe"), "invalid_encoding"),
        Nasty("overlong UTF-8 slash", INNOVATION, utf8.replace(b"Sehat", b"Sehat\xc0\xaf"), "invalid_encoding"),
        Nasty("UTF-8 encoded surrogate", INNOVATION, utf8.replace(b"Sehat", b"\xed\xa0\x80"), "invalid_encoding"),
        Nasty(
            "lone surrogate escape, title", INNOVATION, raw_innovation(title=r'"Posyandu \ud83d"'), "invalid_encoding"
        ),
        Nasty("lone surrogate escape, key", UNIT, b'{"\\udc00": 1}', "invalid_encoding"),
        Nasty("lone surrogate escape, $ key", UNIT, b'{"$\\udc00": 1}', "invalid_encoding"),
        Nasty(
            "lone surrogate, unknown key", "innovation.delete.v1", raw_innovation(title=r'"\udfff"'), "invalid_encoding"
        ),
        Nasty("escaped surrogate pair", INNOVATION, raw_innovation(title=r'"Posyandu \ud83d\ude00"'), ACCEPTED),
        Nasty("escaped backslash, u-d800", INNOVATION, raw_innovation(title=r'"Folder C:\\ud800"'), ACCEPTED),
    ]


def _numbers_and_duplicates() -> list[Nasty]:
    return [
        Nasty("NaN year", INNOVATION, raw_innovation(year="NaN"), "invalid_json"),
        Nasty("Infinity level", INNOVATION, raw_innovation(indicators='{"16": {"level": Infinity}}'), "invalid_json"),
        Nasty("-Infinity year", INNOVATION, raw_innovation(year="-Infinity"), "invalid_json"),
        Nasty("number beyond a double", INNOVATION, raw_innovation(year="1e400"), "wrong_type"),
        Nasty("4,000-digit year", INNOVATION, raw_innovation(year="9" * 4000), "out_of_range"),
        Nasty("5,000-digit year", INNOVATION, raw_innovation(year="9" * 5000), "invalid_json"),
        Nasty("negative zero year", INNOVATION, raw_innovation(year="-0"), "out_of_range"),
        Nasty("float year", INNOVATION, raw_innovation(year="2026.0"), "wrong_type"),
        Nasty("float level", INNOVATION, raw_innovation(indicators='{"16": {"level": 2.0}}'), "wrong_type"),
        Nasty("duplicate top-level key", INNOVATION, raw_innovation(title='"a", "title": "b"'), "invalid_json"),
        Nasty("duplicate indicator", INNOVATION, raw_innovation(indicators='{"16": {}, "16": {}}'), "invalid_json"),
        Nasty("same key, other case", UNIT, with_keys(samples.unit(), {"Name": "x"}), "unknown_field"),
    ]


def _structure() -> list[Nasty]:
    unknown_ids = {str(number): 0 for number in range(100, 100_000)}  # 99,900 of them in 0.99 MB
    few_unknown_ids = dict(list(unknown_ids.items())[:4000])
    long_evidence = {"16": {"level": 1, "evidence": [1] * 100_000}}
    return [
        Nasty("nested 33 deep in results", INNOVATION, inn(results=nested(33)), "too_deep"),
        Nasty("nested 20 deep, unknown field", INNOVATION, inn(extra=nested(20)), "unknown_field"),
        Nasty("100,000 nested arrays", INNOVATION, b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        Nasty("100,000 nested objects", INNOVATION, b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "invalid_json"),
        Nasty("5 MB design", INNOVATION, inn(design="kata " * 1_000_000), "too_large"),
        Nasty("3 MB of every byte", INNOVATION, bytes(range(256)) * 12_000, "too_large"),
        Nasty("one byte over 1 MiB", INNOVATION, padded_to(inn(), MAX_BODY_BYTES + 1), "too_large"),
        Nasty("exactly 1 MiB", INNOVATION, padded_to(inn(external_id="INV-1MIB"), MAX_BODY_BYTES), ACCEPTED),
        Nasty("largest valid message", INNOVATION, as_json(largest_valid_innovation()), ACCEPTED),
        Nasty(
            "99,900 unknown indicators", INNOVATION, compact(samples.innovation(indicators=unknown_ids)), "too_large"
        ),
        Nasty("4,000 unknown indicators", INNOVATION, inn(indicators=few_unknown_ids), "unknown_indicator"),
        Nasty("100,000 $ keys", UNIT, compact({f"${number}": 0 for number in range(100_000)}), "too_large"),
        Nasty("a 900 kB key", INNOVATION, with_keys(samples.innovation(), {"k" * 900_000: 1}), "unknown_field"),
        Nasty("200,000 urusan", INNOVATION, compact(samples.innovation(urusan=["x"] * 200_000)), "too_large"),
        Nasty("4,000 urusan", INNOVATION, inn(urusan=["kesehatan"] * 4000), "invalid_length"),
        Nasty("100,000 evidence items", INNOVATION, compact(samples.innovation(indicators=long_evidence)), "too_large"),
        Nasty(
            "4,000 evidence items",
            INNOVATION,
            inn(indicators={"16": {"level": 1, "evidence": [1] * 4000}}),
            "invalid_length",
        ),
        Nasty("300-character title", INNOVATION, inn(title="T" * 300), ACCEPTED),
        Nasty("301-character title", INNOVATION, inn(title="T" * 301), "invalid_length"),
        Nasty("design of 50,001 characters", INNOVATION, inn(design="k" * 50_001), "invalid_length"),
        Nasty("empty title", INNOVATION, inn(title=""), "invalid_length"),
        Nasty("title of spaces", INNOVATION, inn(title=" \t "), "invalid_length"),
        Nasty("empty object", INNOVATION, b"{}", "missing"),
    ]


def _keys() -> list[Nasty]:
    evidence = {"16": {"level": 2, "evidence": [{"title": "SK", "uri": "https://a.example/", "$where": "1"}]}}
    return [
        Nasty("$set at the top", INNOVATION, with_keys(samples.innovation(), {"$set": {"year": 1}}), "forbidden_key"),
        Nasty("$where in evidence", INNOVATION, inn(indicators=evidence), "forbidden_key"),
        Nasty("$ne as an SPD id", PROFILE, profile(spd={"$ne": 1}), "forbidden_key"),
        Nasty("dotted key at the top", UNIT, with_keys(samples.unit(), {"name.first": "x"}), "forbidden_key"),
        Nasty("dotted indicator id", INNOVATION, inn(indicators={"16.5": {"level": 1}}), "forbidden_key"),
        Nasty("NUL in a key", UNIT, with_keys(samples.unit(), {"na\x00me": "x"}), "forbidden_key"),
        Nasty("lone $ key", UNIT, with_keys(samples.unit(), {"$": 1}), "forbidden_key"),
        Nasty("empty key", UNIT, with_keys(samples.unit(), {"": 1}), "unknown_field"),
        Nasty("__proto__ key", UNIT, with_keys(samples.unit(), {"__proto__": {"admin": True}}), "unknown_field"),
        Nasty("key with a space", UNIT, with_keys(samples.unit(), {" name": "x"}), "unknown_field"),
    ]


def _dates() -> list[Nasty]:
    cases = [
        ("0000-01-01", "invalid_date"),
        ("0001-01-01", "out_of_range"),
        ("1945-08-16", "out_of_range"),
        ("9999-12-31", "out_of_range"),
        ("10000-01-01", "invalid_date"),
        ("-0001-01-01", "invalid_date"),
        ("2024-02-30", "invalid_date"),
        ("2024-13-01", "invalid_date"),
        ("2024-03-01T00:00:00Z", "invalid_date"),
        ("01/03/2024", "invalid_date"),
        ("", "invalid_date"),
    ]
    return [
        *(Nasty(f"applied_on {value!r}", INNOVATION, inn(applied_on=value), code) for value, code in cases),
        Nasty("applied_on as a timestamp", INNOVATION, inn(applied_on=1709251200), "wrong_type"),
        Nasty("year 0", INNOVATION, inn(year=0), "out_of_range"),
        Nasty("year 9999", INNOVATION, inn(year=9999), "out_of_range"),
        Nasty("year -2026", INNOVATION, inn(year=-2026), "out_of_range"),
        Nasty("profile for year 9999", PROFILE, profile(year=9999), "out_of_range"),
        Nasty("profile for year 0", PROFILE, profile(year=0), "out_of_range"),
    ]


def _markup() -> list[Nasty]:
    return [
        Nasty("script tag in a title", INNOVATION, inn(title="<script>alert('xss')</script>"), ACCEPTED),
        Nasty("img onerror in goals", INNOVATION, inn(goals='<img src=x onerror="alert(1)">'), ACCEPTED),
        Nasty("markup in a unit name", UNIT, unit(name="<b>Dinas</b> &amp; <i>Kesehatan</i>"), ACCEPTED),
        Nasty("template syntax in a title", INNOVATION, inn(title="{{ 7*7 }} {% raw %} ${7*7}"), ACCEPTED),
        Nasty("right-to-left override", INNOVATION, inn(title="Posyandu \u202egnp.exe"), ACCEPTED),
        Nasty("angle brackets, email", UNIT, unit(emails=["<dinkes@kukarkab.example>"]), "invalid_email"),
        Nasty("script after an email", UNIT, unit(emails=["dinkes@kukarkab.example<script>"]), "invalid_email"),
        Nasty("javascript: evidence link", INNOVATION, evidence_uri("javascript:alert(1)"), "invalid_uri"),
        Nasty(
            "data: evidence link", INNOVATION, evidence_uri("data:text/html,<script>alert(1)</script>"), "invalid_uri"
        ),
        Nasty("unclosed IPv6 host", INNOVATION, evidence_uri("http://[::1/dokumen.pdf"), "invalid_uri"),
        Nasty("host changed by NFKC", INNOVATION, evidence_uri("https://a\uff03b.example/"), "invalid_uri"),
        Nasty("CRLF in a link", INNOVATION, evidence_uri("https://a.example/x\r\nSet-Cookie: a=b"), "invalid_uri"),
    ]


def _header_injection() -> list[Nasty]:
    bcc = "\r\nBcc: korban@evil.example"
    return [
        Nasty("CRLF Bcc in a title", INNOVATION, inn(title="Judul" + bcc), "control_character"),
        Nasty("LF header in a title", INNOVATION, inn(title="Judul\nX-Injected: 1"), "control_character"),
        Nasty(
            "line separator in a title", INNOVATION, inn(title="Judul\u2028Bcc: x@evil.example"), "control_character"
        ),
        Nasty("NEL in a title", INNOVATION, inn(title="Judul\x85Bcc: x@evil.example"), "control_character"),
        Nasty("NUL in a title", INNOVATION, inn(title="Judul\x00"), "control_character"),
        Nasty("ESC sequence in goals", INNOVATION, inn(goals="Tujuan \x1b[31mmerah\x1b[0m"), "control_character"),
        Nasty("CRLF in an external id", INNOVATION, inn(external_id="INV\r\n001"), "control_character"),
        Nasty("CR in a unit name", UNIT, unit(name="Dinas\rKesehatan"), "control_character"),
        Nasty("CRLF Bcc in an email", UNIT, unit(emails=["dinkes@kukarkab.example" + bcc]), "invalid_email"),
        Nasty("LF in a mentor email", UNIT, unit(mentor_emails=["mentor@kukar\nkab.example"]), "invalid_email"),
        Nasty("encoded CRLF in an email", UNIT, unit(emails=["dinkes@kukarkab.example%0d%0abcc:x"]), "invalid_email"),
        Nasty(
            "two addresses in one",
            PROFILE,
            profile(admin_emails=["brida@kukarkab.example,x@evil.example"]),
            "invalid_email",
        ),
        Nasty("email, trailing newline", UNIT, unit(emails=["dinkes@kukarkab.example\n"]), ACCEPTED),
        Nasty("email, upper case, spaces", PROFILE, profile(admin_emails=[" BRIDA@KukarKab.Example "]), ACCEPTED),
        Nasty("CRLF in a source", INNOVATION, inn(source="e-inovasi\r\nx"), "invalid_format"),
        Nasty("newline after the source, bad stage", INNOVATION, inn(source="e-inovasi\n", stage="?"), "unknown_value"),
        Nasty("path in a source", INNOVATION, inn(source="../../etc/passwd"), "invalid_format"),
    ]


def _types() -> list[Nasty]:
    cases: list[tuple[str, Any, str]] = [
        ("year", "2026", "wrong_type"),
        ("urusan", "kesehatan", "wrong_type"),
        ("indicators", [], "wrong_type"),
        ("indicators", {"16": {"level": True}}, "wrong_type"),
        ("indicators", {"16": {"level": 2, "evidence": "none"}}, "wrong_type"),
        ("title", 5, "wrong_type"),
        ("title", ["a"], "wrong_type"),
        ("results", {}, "wrong_type"),
        ("stage", None, "unknown_value"),
        ("stage", "PENERAPAN", "unknown_value"),
    ]
    return [
        *(Nasty(f"{field} = {value!r}", INNOVATION, inn(**{field: value}), code) for field, value, code in cases),
        Nasty("emails as an object", UNIT, unit(emails={"a": "dinkes@kukarkab.example"}), "wrong_type"),
        Nasty("active as text", UNIT, unit(active="yes"), "wrong_type"),
        Nasty("spd as a list", PROFILE, profile(spd=[3, 3]), "wrong_type"),
        Nasty("a unit sent as an innovation", INNOVATION, unit(), "missing"),
        Nasty("an innovation sent as a unit", UNIT, inn(), "unknown_field"),
    ]


def _routing_keys() -> list[Nasty]:
    keys = ["", "#", "*.*.*", "innovation.report.v2", "INNOVATION.REPORT.V1", "innovation.report.v1.", "a" * 255]
    keys += ["ünïcødé.kéy", "unit upsert v1", "innovation..report.v1"]
    return [Nasty(f"routing key {key[:20]!r}", key, inn(), "unknown_routing_key") for key in keys]


def corpus() -> list[Nasty]:
    """Hand-written nasty messages. Innovations name the unit DINKES of 64.02: register it first."""
    parts = (_encodings, _numbers_and_duplicates, _structure, _keys, _dates, _markup, _header_injection)
    return [nasty for part in (*parts, _types, _routing_keys) for nasty in part()]


# --- hypothesis strategies ------------------------------------------------------------------------------------

NASTY_STRINGS = (
    "",
    " ",
    "\r\n",
    "\x00",
    "\x85",
    "\u2028",
    "\ufeff",
    "\u202e",
    "\ud800",
    "\udfff",
    "Judul\r\nBcc: korban@evil.example",
    "<script>alert(1)</script>",
    "$where",
    "a.b",
    "NaN",
    "0000-01-01",
    "9999-12-31",
    "2024-02-29",
    "https://inovasi.kukarkab.example/x.pdf",
    "dinkes@kukarkab.example",
    "DINKES@KUKARKAB.EXAMPLE",
    "kesehatan",
    "penerapan",
    "16",
    "33",
    "x" * 301,
)
FIELD_NAMES = sorted({name for model in INTAKE_MODELS.values() for name in model.model_fields} | {"level", "basis"})


_NASTY = st.sampled_from(NASTY_STRINGS)
TEXTS = st.one_of(
    st.text(max_size=30), _NASTY, st.tuples(st.text(max_size=8), _NASTY, st.text(max_size=8)).map("".join)
)
KEYS = st.one_of(TEXTS, st.sampled_from(FIELD_NAMES))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXTS),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: Iterator[tuple[Any, Any]] = iter(value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with one to three fields replaced, removed or added, anywhere in it."""
    document: dict[str, Any] = json.loads(json.dumps(body))
    for _ in range(draw(st.integers(1, 3))):
        paths = sorted(_paths(document), key=repr)
        if not paths:
            break
        *parents, last = draw(st.sampled_from(paths))
        container: Any = document
        for part in parents:
            container = container[part]
        action = draw(st.sampled_from(("replace", "replace", "remove", "add")))
        if action == "remove":
            del container[last]
        elif action == "add" and isinstance(container, dict):
            container[draw(KEYS)] = draw(JSON_VALUES)
        else:
            container[last] = draw(JSON_VALUES)
    return document


def _encode(draw: st.DrawFn, document: Any) -> bytes:
    text = json.dumps(document, ensure_ascii=draw(st.booleans()))
    encoding = draw(st.sampled_from(("utf-8",) * 8 + ("utf-8-sig", "utf-16", "truncated")))
    if encoding == "truncated":
        data = text.encode("utf-8", "surrogatepass")
        return data[: draw(st.integers(0, len(data)))]
    return text.encode(encoding, "surrogatepass")


SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    UNIT: samples.unit,
    PROFILE: samples.profile,
    INNOVATION: samples.innovation,
}
ROUTING_KEYS = (UNIT, PROFILE, INNOVATION, "innovation.report.v2", "", "#")


@st.composite
def intake_messages(draw: st.DrawFn) -> tuple[str, bytes]:
    """A routing key and a body: mostly a valid sample with a few fields broken, else any JSON or any bytes."""
    routing_key = draw(st.sampled_from(ROUTING_KEYS[:3]))
    kind = draw(st.sampled_from(("mutated",) * 6 + ("other key", "any json", "any bytes")))
    if kind == "any bytes":
        return routing_key, draw(st.binary(max_size=300))
    if kind == "any json":
        return routing_key, _encode(draw, draw(JSON_VALUES))
    document = draw(mutated(SAMPLES[routing_key]()))
    if kind == "other key":
        routing_key = draw(st.sampled_from(ROUTING_KEYS))
    return routing_key, _encode(draw, document)


def _one_line_texts(max_size: int) -> st.SearchStrategy[str]:
    """Valid one-line text, perhaps wrapped in spaces: anything printable, no line breaks."""
    characters = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
    padding = st.sampled_from(("", " ", "\t", "  \u3000", "\n"))
    text = st.text(characters, min_size=1, max_size=max_size).filter(lambda value: value.strip() != "")
    return st.tuples(padding, text, padding).map("".join)


ONE_LINE = _one_line_texts(40)
_ALNUM = string.ascii_letters + string.digits
_LABELS = st.text(_ALNUM, min_size=1, max_size=10)
EMAILS = st.builds(
    "{}{}@{}.{}".format, st.sampled_from(_ALNUM), st.text(_ALNUM + "._%+-", max_size=15), _LABELS, _LABELS
)
# A repeated address, in another case, among them.
ADDRESSES = st.lists(EMAILS, min_size=1, max_size=5).map(lambda values: [*values, values[0].upper()])
LEVELS = st.integers(1, 3)
YEARS = st.integers(2000, 2100)
EVIDENCE = st.lists(st.fixed_dictionaries({"title": ONE_LINE, "uri": st.just("https://a.example/x")}), max_size=3)
AFFAIRS = st.lists(st.sampled_from(sorted(GOVERNMENT_AFFAIRS)), min_size=1, max_size=4)


@st.composite
def valid_messages(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A message the contract accepts, written the untidy way senders do (padding, case, repeats)."""
    routing_key = draw(st.sampled_from((UNIT, PROFILE, INNOVATION)))
    if routing_key == UNIT:
        return routing_key, samples.unit(name=draw(ONE_LINE), emails=draw(ADDRESSES), mentor_emails=draw(ADDRESSES))
    if routing_key == PROFILE:
        spd = draw(st.dictionaries(st.sampled_from(SPD_INDICATOR_IDS), LEVELS))
        return routing_key, samples.profile(year=draw(YEARS), admin_emails=draw(ADDRESSES), spd=spd)
    year = draw(YEARS)
    indicators = draw(st.sets(st.sampled_from(SID_INDICATOR_IDS), max_size=6))
    claims = {indicator: {"level": draw(LEVELS), "evidence": draw(EVIDENCE)} for indicator in sorted(indicators)}
    if "33" in claims:
        claims["33"]["basis"] = draw(st.sampled_from("abcdef"))
    affairs = draw(AFFAIRS)
    body = samples.innovation(
        external_id=draw(ONE_LINE),
        year=year,
        title=draw(ONE_LINE),
        goals=draw(ONE_LINE) + "\n" + draw(ONE_LINE),
        urusan=[*affairs, affairs[0]],
        applied_on=draw(st.dates(dt.date(1945, 8, 17), dt.date(year, 12, 31))).isoformat(),
        indicators=claims,
    )
    return routing_key, body


# --- the properties ----------------------------------------------------------------------------------------


def check_verdict(result: IntakeModel | Rejection) -> None:
    """A rejection says why with codes the units get explained; an acceptance is valid and normalised."""
    if isinstance(result, Rejection):
        assert result.reasons, "a rejection without a reason"
        assert result.source == UNKNOWN_SOURCE or SOURCE.fullmatch(result.source), f"answer to {result.source!r}"
        for reason in result.reasons:
            assert reason.code in PARSE_CODES, f"unspecified code {reason.code!r}: {reason}"
            assert reason.field, reason
            assert reason.message, reason
    else:
        check_stored(result.routing_key, result.model_dump(mode="json"))


def check_stored(routing_key: str, data: dict[str, Any]) -> None:
    """What the service stores is valid and normalised: validating it again changes nothing, and it has the
    contract's properties, checked here without the contract's own code."""
    again = parse_intake(routing_key, json.dumps(data).encode())
    assert isinstance(again, IntakeModel), f"stored data is not valid: {again}"
    assert again.model_dump(mode="json") == data, "stored data is not in its normalised form"
    for path, key in _all_keys(data):
        assert not key.startswith("$"), f"key {key!r} at {path}"
        assert "." not in key, f"key {key!r} at {path}"
    for path, text in _all_strings(data):
        text.encode("utf-8")  # no lone surrogate
        assert text == text.strip(), f"{path}: {text!r} is not trimmed"
        allowed = _LINE_BREAKS_ALLOWED if set(path) & LONG_TEXTS else frozenset()
        controls = {char for char in text if unicodedata.category(char) == "Cc"}
        assert controls <= allowed, f"{path}: control characters {controls} in {text!r}"
        if not allowed:
            assert len(text.splitlines()) <= 1, f"{path}: line break in {text!r}"
    for name in EMAIL_LISTS & set(data):
        addresses = data[name]
        assert len(addresses) == len(set(addresses)), f"{name}: repeated addresses"
        assert all(_EMAIL.fullmatch(address) for address in addresses), f"{name}: {addresses}"
    if routing_key == INNOVATION:
        _check_innovation(data)
    if "year" in data:
        assert 2000 <= data["year"] <= 2100


def _check_innovation(data: dict[str, Any]) -> None:
    assert len(data["urusan"]) == len(set(data["urusan"])), "repeated urusan"
    if data["stage"] == "penerapan":
        assert data["applied_on"] is not None
    if data["applied_on"] is not None:
        assert dt.date.fromisoformat(data["applied_on"]) <= dt.date(data["year"], 12, 31)
    for indicator_id, claim in data["indicators"].items():
        assert 16 <= int(indicator_id) <= 35
        assert 1 <= claim["level"] <= 3
        assert (claim["basis"] is not None) == (indicator_id == "33")
        assert all(item["uri"].startswith(("http://", "https://")) for item in claim["evidence"])


def _all_keys(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield path, key
            yield from _all_keys(child, (*path, key))
    elif isinstance(value, list):
        for child in value:
            yield from _all_keys(child, path)


def _all_strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _all_strings(child, (*path, key))
    elif isinstance(value, list):
        for child in value:
            yield from _all_strings(child, path)
