"""Field types shared by the intake and event contracts."""

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

# C0, DEL and C1 controls; one-line values also refuse Unicode's own line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Deliberately narrower than RFC 5322: an address that is also safe inside a mail header.
_EMAIL = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def _single_line(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError("control_character", "must be a single line without control characters")
    return value


def multi_line_text(value: str) -> str:
    if _CONTROL_EXCEPT_NEWLINES.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    return value


def _email(value: str) -> str:
    lowered = value.lower()
    if len(lowered) > 254 or not _EMAIL.match(lowered):
        raise PydanticCustomError("invalid_email", "'{value}' is not a valid email address", {"value": value[:100]})
    return lowered


def _web_uri(value: str) -> str:
    if not _is_web_uri(value):
        raise PydanticCustomError("invalid_uri", "must be an http or https address")
    return value


def _is_web_uri(value: str) -> bool:
    if _CONTROL.search(value) or " " in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed "[" of an IPv6 host, a host that NFKC normalisation changes
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


SingleLine = Annotated[str, AfterValidator(_single_line)]
Source = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{2}(\.\d{2}){0,3}$")]
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_single_line)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300), AfterValidator(_single_line)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=50_000), AfterValidator(multi_line_text)]
Email = Annotated[str, AfterValidator(_email)]
WebUri = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_web_uri)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Level = Annotated[int, Field(ge=1, le=3)]
