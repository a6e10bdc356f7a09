"""Text helpers for emails: one-line values, subjects, and Indonesian numbers, dates and labels."""

import datetime as dt
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from inovda_shared.contracts.vocabulary import UNIT_KIND_LABELS

SUBJECT_MAX_CHARS = 150

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


# Cc: control characters (CR, LF, NUL, ...); Cf: invisible format characters (bidi overrides, zero-width);
# Zl/Zp: Unicode line and paragraph separators. None of them belongs in a one-line value.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def one_line(text: str) -> str:
    """The text on a single line: control and invisible characters become spaces, runs of spaces one."""
    visible = "".join(" " if unicodedata.category(char) in _INVISIBLE_CATEGORIES else char for char in text)
    return " ".join(visible.split())


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def subject_line(text: str, limit: int = SUBJECT_MAX_CHARS) -> str:
    """A mail subject that can never start a new header line, and stays readable in a mail list."""
    return shorten(one_line(text), limit)


def format_number(value: float | int | Decimal, decimals: int = 2) -> str:
    """Indonesian notation with fixed decimals: 1234.5 -> '1.234,50'. Rounds half up, like the index."""
    rounded = _decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    english = f"{rounded:,.{decimals}f}"
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_points(value: float | int | Decimal) -> str:
    """Like `format_number`, without trailing zero decimals: 6.0 -> '6', 1.5 -> '1,5', 0.75 -> '0,75'."""
    text = format_number(value, 2)
    return text.rstrip("0").rstrip(",") if "," in text else text


def format_date(day: dt.date) -> str:
    """'1 Juli 2026'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def unit_kind_label(kind: str) -> str:
    return UNIT_KIND_LABELS.get(kind, kind)


def _decimal(value: float | int | Decimal) -> Decimal:
    # Through str(), so that 65.005 is the decimal 65.005 and not the binary float just below it.
    return value if isinstance(value, Decimal) else Decimal(str(value))
