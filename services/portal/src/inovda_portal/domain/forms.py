"""The report form: every field of `innovation.report.v1`, to and from the HTML form, and the intake's
rejection reasons placed beside the fields they concern.

The portal does not validate a report: the intake does, as for every outside system. The form only turns
text into the contract's types where the text says so plainly (a level "2" is 2; an empty field is left out,
so that the intake names it as missing).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from inovda_notification.domain.reasons import explain
from inovda_shared.contracts.events import Reason
from inovda_shared.contracts.vocabulary import (
    BENEFIT_INDICATOR_ID,
    GOVERNMENT_AFFAIRS,
    SID_INDICATOR_IDS,
    BenefitBasis,
    Initiator,
    InnovationForm,
    InnovationType,
    Stage,
)

EVIDENCE_ROWS = 3  # empty evidence rows offered per indicator (more once filled), readable without JavaScript
TEXT_FIELDS = ("title", "design", "goals", "benefits", "results")
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "form": get_args(InnovationForm),
    "type": get_args(InnovationType),
    "initiator": get_args(Initiator),
    "stage": get_args(Stage),
}
BASES: tuple[str, ...] = get_args(BenefitBasis)

FormData = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class EvidenceRow:
    title: str = ""
    uri: str = ""


@dataclass(frozen=True)
class IndicatorInput:
    indicator_id: str
    level: str = ""
    basis: str = ""
    evidence: tuple[EvidenceRow, ...] = ()

    def rows(self) -> tuple[EvidenceRow, ...]:
        """The filled rows and enough empty ones to add more."""
        filled = tuple(row for row in self.evidence if row.title or row.uri)
        return filled + (EvidenceRow(),) * max(EVIDENCE_ROWS - len(filled), 1)


@dataclass(frozen=True)
class ReportForm:
    """What the operator typed (or what the latest revision said), as text."""

    values: dict[str, str] = field(default_factory=dict)
    urusan: tuple[str, ...] = ()
    indicators: dict[str, IndicatorInput] = field(default_factory=dict)

    def indicator(self, indicator_id: str) -> IndicatorInput:
        return self.indicators.get(indicator_id) or IndicatorInput(indicator_id)


def field_text(data: FormData, name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        value = value[0] if value else ""
    return value.strip()


def field_values(data: FormData, name: str) -> tuple[str, ...]:
    value = data.get(name, ())
    return (value,) if isinstance(value, str) else tuple(value)


def read_form(data: FormData) -> ReportForm:
    values = {name: field_text(data, name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS, "applied_on", "year")}
    indicators = {}
    for indicator_id in SID_INDICATOR_IDS:
        prefix = f"ind-{indicator_id}"
        rows = []
        index = 0
        while f"{prefix}-ev-{index}-title" in data or f"{prefix}-ev-{index}-uri" in data:
            rows.append(
                EvidenceRow(
                    field_text(data, f"{prefix}-ev-{index}-title"), field_text(data, f"{prefix}-ev-{index}-uri")
                )
            )
            index += 1
        indicators[indicator_id] = IndicatorInput(
            indicator_id, field_text(data, f"{prefix}-level"), field_text(data, f"{prefix}-basis"), tuple(rows)
        )
    return ReportForm(values, tuple(affair for affair in field_values(data, "urusan") if affair), indicators)


def form_of_report(report: Mapping[str, Any]) -> ReportForm:
    """A revision as the form shows it, to be revised."""
    values = {name: str(report.get(name) or "") for name in (*TEXT_FIELDS, *CHOICE_FIELDS, "applied_on", "year")}
    indicators = {
        indicator_id: IndicatorInput(
            indicator_id,
            str(claim.get("level", "")),
            str(claim.get("basis") or ""),
            tuple(EvidenceRow(item.get("title", ""), item.get("uri", "")) for item in claim.get("evidence", [])),
        )
        for indicator_id, claim in (report.get("indicators") or {}).items()
    }
    return ReportForm(values, tuple(report.get("urusan") or ()), indicators)


def report_body(
    form: ReportForm, *, source: str, external_id: str, region_code: str, unit_code: str, year: int
) -> dict[str, Any]:
    """The `innovation.report.v1` body; who reports, for which unit, region and year comes from the account and
    the page, never from the form."""
    body: dict[str, Any] = {
        "source": source,
        "external_id": external_id,
        "region_code": region_code,
        "unit_code": unit_code,
        "year": year,
    }
    for name in (*TEXT_FIELDS, *CHOICE_FIELDS, "applied_on"):
        if value := form.values.get(name):
            body[name] = value
    body["urusan"] = list(form.urusan)
    indicators = {}
    for indicator_id, claim in form.indicators.items():
        if not claim.level:
            continue
        entry: dict[str, Any] = {
            "level": int(claim.level) if claim.level.isdigit() else claim.level,
            "evidence": [{"title": row.title, "uri": row.uri} for row in claim.evidence if row.title or row.uri],
        }
        if indicator_id == BENEFIT_INDICATOR_ID and claim.basis:
            entry["basis"] = claim.basis
        indicators[indicator_id] = entry
    body["indicators"] = indicators
    return body


@dataclass(frozen=True)
class FieldProblem:
    problem: str
    fix: str | None


# `indicators.16.evidence.0.uri` -> the form's `ind-16-ev-0-uri`; `urusan.3` -> `urusan`.
_INDICATOR_PART = re.compile(r"^indicators\.(?P<id>[^.]+)(?:\.(?P<rest>.+))?$")


def form_field_of(reason_field: str) -> str:
    """The form field a reason concerns; `form` for what concerns the report as a whole."""
    if match := _INDICATOR_PART.match(reason_field):
        indicator, rest = match.group("id"), match.group("rest") or "level"
        rest = re.sub(r"^evidence\.(\d+)\.(title|uri)$", r"ev-\1-\2", rest)
        if rest.startswith("evidence"):
            rest = "ev-0-uri"
        return f"ind-{indicator}-{rest}"
    top = reason_field.split(".", 1)[0]
    if top in (*TEXT_FIELDS, *CHOICE_FIELDS, "applied_on", "urusan", "year"):
        return top
    return "form"


def problems_by_field(reasons: Sequence[Reason]) -> dict[str, list[FieldProblem]]:
    placed: dict[str, list[FieldProblem]] = {}
    for reason in reasons:
        explained = explain(reason)
        placed.setdefault(form_field_of(reason.field), []).append(FieldProblem(explained.problem, explained.fix))
    return placed


def affairs() -> list[str]:
    return sorted(GOVERNMENT_AFFAIRS)
