"""Text helpers for emails: one-line values, subjects and labels (numbers and dates: `inovda_shared.indonesian`)."""

import unicodedata

from inovda_shared.contracts.vocabulary import UNIT_KIND_LABELS

SUBJECT_MAX_CHARS = 150

# Cc: control characters (CR, LF, NUL, ...); Cf: invisible format characters (bidi overrides, zero-width);
# Zl/Zp: Unicode line and paragraph separators. None of them belongs in a one-line value.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def one_line(text: str) -> str:
    """The text on a single line: control and invisible characters become spaces, runs of spaces one."""
    if text.isprintable():  # no "Other" (Cc, Cf, ...) nor separator but the space: nothing invisible to find
        return " ".join(text.split())
    visible = "".join(" " if unicodedata.category(char) in _INVISIBLE_CATEGORIES else char for char in text)
    return " ".join(visible.split())


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def subject_line(text: str, limit: int = SUBJECT_MAX_CHARS) -> str:
    """A mail subject that can never start a new header line, and stays readable in a mail list."""
    return shorten(one_line(text), limit)


def unit_kind_label(kind: str) -> str:
    return UNIT_KIND_LABELS.get(kind, kind)
