"""The review form: a verifier's decision on each indicator of one revision (and on its eligibility items), to
and from the HTML form, and the `innovation.verification.v1` body it becomes.

As with the report form, the intake validates the round, not the portal: an indicator left undecided is left
out of the round (it keeps the decision it has, or stays unreviewed), a reason or level the verifier forgot is
named in the intake's answer.
"""

from dataclasses import dataclass, field
from typing import Any, get_args

from inovda_shared.contracts.events import EligibilityVerdict, VerifiedDecision
from inovda_shared.contracts.vocabulary import (
    DecisionKind,
    EligibilityItem,
    NotAcceptedReason,
)

from .forms import FormData, field_text

DECISIONS: tuple[str, ...] = get_args(DecisionKind)
REASONS: tuple[str, ...] = get_args(NotAcceptedReason)
ELIGIBILITY_ITEMS: tuple[str, ...] = get_args(EligibilityItem)


@dataclass(frozen=True)
class DecisionInput:
    """One indicator's (or eligibility item's) decision, as text; `decision` "" is undecided."""

    decision: str = ""
    level: str = ""
    reason: str = ""
    note: str = ""

    @classmethod
    def of(cls, decided: VerifiedDecision | EligibilityVerdict | None) -> "DecisionInput":
        if decided is None:
            return cls()
        level = getattr(decided, "level", None)
        return cls(decided.decision, str(level or ""), decided.reason or "", decided.note or "")


@dataclass(frozen=True)
class ReviewForm:
    indicators: dict[str, DecisionInput] = field(default_factory=dict)
    eligibility: dict[str, DecisionInput] = field(default_factory=dict)
    note: str = ""

    def indicator(self, indicator_id: str) -> DecisionInput:
        return self.indicators.get(indicator_id) or DecisionInput()

    def item(self, name: str) -> DecisionInput:
        return self.eligibility.get(name) or DecisionInput()


def read_review_form(data: FormData, indicator_ids: tuple[str, ...]) -> ReviewForm:
    """The decisions typed for the revision's claimed indicators; fields of other indicators are ignored."""

    def decision(prefix: str) -> DecisionInput:
        return DecisionInput(
            field_text(data, f"{prefix}-keputusan"),
            field_text(data, f"{prefix}-level"),
            field_text(data, f"{prefix}-alasan"),
            field_text(data, f"{prefix}-catatan"),
        )

    return ReviewForm(
        indicators={key: decision(f"ind-{key}") for key in indicator_ids},
        eligibility={item: decision(f"syarat-{item}") for item in ELIGIBILITY_ITEMS},
        note=field_text(data, "catatan"),
    )


def review_body(
    form: ReviewForm,
    *,
    source: str,
    region_code: str,
    innovation_source: str,
    external_id: str,
    revision: int,
    year: int,
    verifier: str,
) -> dict[str, Any]:
    """The `innovation.verification.v1` body: only what was decided."""
    body: dict[str, Any] = {
        "source": source,
        "region_code": region_code,
        "innovation_source": innovation_source,
        "external_id": external_id,
        "revision": revision,
        "year": year,
        "verifier": verifier,
        "indicators": {
            key: _decision_body(value, with_level=True) for key, value in form.indicators.items() if value.decision
        },
        "eligibility": {
            key: _decision_body(value, with_level=False) for key, value in form.eligibility.items() if value.decision
        },
    }
    if form.note:
        body["note"] = form.note
    return body


def _decision_body(value: DecisionInput, *, with_level: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"decision": value.decision}
    if with_level and value.decision == "accepted_lower":
        body["level"] = int(value.level) if value.level.isdigit() else value.level
    if value.decision == "not_accepted" and value.reason:
        body["reason"] = value.reason
    if value.note:
        body["note"] = value.note
    return body
