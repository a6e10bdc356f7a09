"""Turn the raw bytes of an intake message into a validated contract model, or into reasons to reject it.

Every check produces a reason `{field, code, message}` specific enough for the sender to fix the message.
"""

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.events import REFUSALS, UNKNOWN_SOURCE, Reason
from inovda_shared.contracts.intake import INTAKE_MODELS, InnovationReport, IntakeModel, RegionProfile

MAX_BODY_BYTES = 1024 * 1024
MAX_NESTING = 32
# Keys and list items in one body. The largest valid message (an innovation with 20 indicators of 50 evidence
# items each) has 3,137; a 1 MiB body can hold 200,000, each worth a reason or two: validating those took
# seconds of CPU, and their answer outgrew MongoDB's 16 MiB document limit.
MAX_VALUES = 5_000
# Reasons in one answer: enough to fix any honest message in one round, small enough to store and mail.
MAX_REASONS = 50
MAX_FIELD_CHARS = 200
MAX_MESSAGE_CHARS = 500
# `\ud800`..`\udfff`: JSON may escape a lone UTF-16 surrogate, which no UTF-8 text (or BSON string) can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# What the intake reads: the outside systems' messages, and the operator's command.
MODELS: dict[str, type[IntakeModel]] = {**INTAKE_MODELS, OwnershipTransfer.routing_key: OwnershipTransfer}
_PYDANTIC_CODES = {
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "literal_error": "unknown_value",
    "enum": "unknown_value",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_too_short": "invalid_length",
    "string_too_long": "invalid_length",
    "too_short": "invalid_length",
    "too_long": "invalid_length",
    "string_pattern_mismatch": "invalid_format",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
    "date_future": "invalid_date",
}


@dataclass(frozen=True)
class Rejection:
    """Why a message cannot be accepted, and what could still be read from it for the answer."""

    reasons: list[Reason]
    source: str = UNKNOWN_SOURCE
    key: dict[str, str | int] = field(default_factory=dict)
    region_code: str | None = None
    unit_code: str | None = None
    title: str | None = None

    @classmethod
    def of(cls, model: IntakeModel, reasons: list[Reason], source: str | None = None) -> "Rejection":
        """A rejection of a valid message, answered to `source` (default: the message's own)."""
        return cls(
            reasons,
            source=source or model.source,
            key=model.key(),
            region_code=model.region_code,
            unit_code=getattr(model, "unit_code", None),
            title=getattr(model, "title", None),
        )

    @property
    def refused(self) -> bool:
        """The sender may not send this at all: nobody is emailed about it (`IntakeAnswer.refused`)."""
        return any(reason.code in REFUSALS for reason in self.reasons)


class _DuplicateKeyError(ValueError):
    pass


def parse_intake(routing_key: str, body: bytes) -> IntakeModel | Rejection:
    if len(body) > MAX_BODY_BYTES:
        return Rejection(
            [Reason(field="$", code="too_large", message=f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")]
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection([Reason(field="$", code="invalid_encoding", message=f"body is not UTF-8: {exc}")])
    try:
        document = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys)
    except RecursionError:
        return Rejection([Reason(field="$", code="invalid_json", message="JSON is nested too deeply")])
    except (json.JSONDecodeError, ValueError) as exc:
        return Rejection([Reason(field="$", code="invalid_json", message=f"body is not valid JSON: {exc}")])
    if _SURROGATE_ESCAPE.search(text) and not _is_unicode(document):
        message = "body escapes a lone UTF-16 surrogate (\\ud800 to \\udfff), which is not a Unicode character"
        return Rejection([Reason(field="$", code="invalid_encoding", message=message)])
    if not isinstance(document, dict):
        return Rejection(
            [Reason(field="$", code="wrong_type", message=f"body must be a JSON object, not {type(document).__name__}")]
        )

    readable = _readable_parts(document)
    model = MODELS.get(routing_key)
    if model is None:
        known = ", ".join(sorted(INTAKE_MODELS))
        reason = Reason(
            field="$routing_key", code="unknown_routing_key", message=f"'{routing_key[:100]}' is not one of {known}"
        )
        return Rejection([reason], **readable)

    structural = list(_structural_reasons(document))
    if structural:
        return Rejection(_capped(structural, len(structural)), **readable)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        reasons = [_reason(error) for error in exc.errors(include_url=False)[:MAX_REASONS]]
        return Rejection(_capped(reasons, exc.error_count()), **readable)


def _is_unicode(document: Any) -> bool:
    """No key or string holds a lone surrogate (walked without recursion: the nesting is not checked yet)."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return False
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True


def _capped(reasons: list[Reason], total: int) -> list[Reason]:
    """At most MAX_REASONS reasons; the last one kept says how many more there were."""
    if total <= MAX_REASONS:
        return reasons
    *kept, last = reasons[:MAX_REASONS]
    more = f" ({total - MAX_REASONS} more problems not listed: fix these and send the message again)"
    return [*kept, last.model_copy(update={"message": last.message + more})]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(f"key '{key[:60]}' appears twice in one object")
        result[key] = value
    return result


def _structural_reasons(document: dict[str, Any]) -> Iterator[Reason]:
    """Keys MongoDB would treat as operators or paths, and nesting or bulk no contract needs."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    values = 0
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_NESTING:
            yield Reason(
                field=path[:MAX_FIELD_CHARS] or "$",
                code="too_deep",
                message=f"nesting deeper than {MAX_NESTING} levels",
            )
            continue
        if isinstance(value, dict | list):
            values += len(value)
            if values > MAX_VALUES:
                message = f"body holds more than {MAX_VALUES} values (keys and list items); no message needs that many"
                yield Reason(field="$", code="too_large", message=message)
                return
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else key
                if key.startswith("$") or "." in key or "\x00" in key:
                    yield Reason(
                        field=child_path[:MAX_FIELD_CHARS],
                        code="forbidden_key",
                        message=f"key '{key[:60]}' must not start with '$' or contain '.'",
                    )
                else:
                    stack.append((child, child_path, depth + 1))
        elif isinstance(value, list):
            stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(value))


def _reason(error: ErrorDetails) -> Reason:
    context = error.get("ctx") or {}
    loc = [str(part) for part in error["loc"] if part != "[key]"]
    field_path = str(context.get("field") or ".".join(loc) or "$")[:MAX_FIELD_CHARS]
    error_type = error["type"]
    code = _PYDANTIC_CODES.get(error_type)
    if code is None:
        code = "wrong_type" if error_type.endswith("_type") or error_type.endswith("_parsing") else error_type
    message = error["msg"]
    if error_type == "extra_forbidden":
        message = "this field is not part of the contract"
    return Reason(field=field_path, code=code, message=f"{field_path}: {message}"[:MAX_MESSAGE_CHARS])


def _readable_parts(document: dict[str, Any]) -> dict[str, Any]:
    """What a rejected message still tells reliably enough to address the answer and the unit."""

    def text(name: str, limit: int = 128) -> str | None:
        """Trimmed, as the contract reads it: a source "e-inovasi\\n" is still e-inovasi, whose results queue
        is bound to `intake.rejected.e-inovasi`."""
        value = document.get(name)
        if not isinstance(value, str):
            return None
        return value.strip()[:limit] or None

    source = text("source")
    key: dict[str, str | int] = {}
    for name in ("external_id", "innovation_source", "unit_code", "region_code"):
        if (value := text(name)) is not None:
            key[name] = value
    year = document.get("year")
    if isinstance(year, int) and not isinstance(year, bool):
        key["year"] = year
    return {
        "source": source if source and _SOURCE.fullmatch(source) else UNKNOWN_SOURCE,
        "key": key,
        "region_code": text("region_code", 16),
        "unit_code": text("unit_code", 64),
        "title": text("title", 300),
    }


def rubric_rejection(model: IntakeModel, rubric_years: Collection[int]) -> Rejection | None:
    """A profile or an innovation for an assessment year that has no IID rubric: nothing could score it."""
    if not isinstance(model, RegionProfile | InnovationReport) or model.year in rubric_years:
        return None
    known = ", ".join(str(year) for year in sorted(rubric_years)) or "none"
    message = f"year: there is no IID rubric for assessment year {model.year} (rubrics: {known})"
    return Rejection.of(model, [Reason(field="year", code="no_rubric_for_year", message=message)])
