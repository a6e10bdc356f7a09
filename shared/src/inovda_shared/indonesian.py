"""Numbers and dates as Indonesian readers write them, for every text Inovda shows people (emails, the CLI's
reports, the path's steps, the portal): one formatter, one rounding (half up, as the index itself rounds)."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

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


def _decimal(value: float | int | Decimal) -> Decimal:
    # Through str(), so that 65.005 is the decimal 65.005 and not the binary float just below it.
    return value if isinstance(value, Decimal) else Decimal(str(value))
