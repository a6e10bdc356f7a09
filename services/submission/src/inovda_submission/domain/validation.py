"""Turn the raw bytes of an intake message into a validated contract model, or into reasons to reject it.

Every check produces a reason `{field, code, message}` specific enough for the sender to fix the message.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from inovda_shared.contracts.events import UNKNOWN_SOURCE, Reason
from inovda_shared.contracts.intake import INTAKE_MODELS, IntakeModel

MAX_BODY_BYTES = 1024 * 1024
MAX_NESTING = 32
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
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
    if not isinstance(document, dict):
        return Rejection(
            [Reason(field="$", code="wrong_type", message=f"body must be a JSON object, not {type(document).__name__}")]
        )

    readable = _readable_parts(document)
    model = INTAKE_MODELS.get(routing_key)
    if model is None:
        known = ", ".join(sorted(INTAKE_MODELS))
        reason = Reason(
            field="$routing_key", code="unknown_routing_key", message=f"'{routing_key[:100]}' is not one of {known}"
        )
        return Rejection([reason], **readable)

    structural = list(_structural_reasons(document))
    if structural:
        return Rejection(structural, **readable)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        return Rejection([_reason(error) for error in exc.errors(include_url=False)], **readable)


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
    """Keys MongoDB would treat as operators or paths, and nesting no contract needs."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_NESTING:
            yield Reason(field=path or "$", code="too_deep", message=f"nesting deeper than {MAX_NESTING} levels")
            continue
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else key
                if key.startswith("$") or "." in key or "\x00" in key:
                    yield Reason(
                        field=child_path[:200],
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
    field_path = str(context.get("field") or ".".join(loc) or "$")
    error_type = error["type"]
    code = _PYDANTIC_CODES.get(error_type)
    if code is None:
        code = "wrong_type" if error_type.endswith("_type") or error_type.endswith("_parsing") else error_type
    message = error["msg"]
    if error_type == "extra_forbidden":
        message = "this field is not part of the contract"
    return Reason(field=field_path, code=code, message=f"{field_path}: {message}")


def _readable_parts(document: dict[str, Any]) -> dict[str, Any]:
    """What a rejected message still tells reliably enough to address the answer and the unit."""

    def text(name: str, limit: int = 128) -> str | None:
        value = document.get(name)
        return value[:limit] if isinstance(value, str) and value else None

    source = text("source")
    key: dict[str, str | int] = {}
    for name in ("external_id", "unit_code", "region_code"):
        if (value := text(name)) is not None:
            key[name] = value
    year = document.get("year")
    if isinstance(year, int) and not isinstance(year, bool):
        key["year"] = year
    return {
        "source": source if source and _SOURCE.match(source) else UNKNOWN_SOURCE,
        "key": key,
        "region_code": text("region_code", 16),
        "unit_code": text("unit_code", 64),
        "title": text("title", 300),
    }
