"""A review round (`innovation.verification.v1`): whether it may be taken, and the `innovation.verified` it
becomes.

A round decides on one stored revision of one innovation, and only on what that revision claims; it is taken
from a source the region trusts to verify (the portal, whose pages check the verifier's account), never from
the system that reported the innovation. Each decision is stored with what it judged (the claim's level and
fingerprint), so that scoring can tell which decisions still hold for a later revision.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from inovda_shared.contracts.events import EligibilityVerdict, InnovationVerified, Reason, VerifiedDecision
from inovda_shared.contracts.intake import (
    InnovationReport,
    InnovationVerification,
    claim_fingerprint,
    eligibility_fingerprints,
)

from .validation import Rejection


class ReviewRound(BaseModel):
    """A review round as stored (one version of the innovation's review history): the round, and what each of
    its decisions judged in the revision it reviewed."""

    model_config = ConfigDict(frozen=True)

    decided: InnovationVerification
    unit_code: str
    judged_levels: dict[str, int]
    judged_claims: dict[str, str]  # indicator -> `claim_fingerprint`
    judged_items: dict[str, str]  # eligibility item -> `eligibility_fingerprints`

    @classmethod
    def of(cls, decided: InnovationVerification, report: InnovationReport) -> "ReviewRound":
        claims = {key: report.indicators[key] for key in decided.indicators}
        return cls(
            decided=decided,
            unit_code=report.unit_code,
            judged_levels={key: claim.level for key, claim in claims.items()},
            judged_claims={key: claim_fingerprint(claim) for key, claim in claims.items()},
            judged_items={
                item: fingerprint
                for item, fingerprint in eligibility_fingerprints(report).items()
                if item in decided.eligibility
            },
        )

    def announced(self, round_number: int, now: dt.datetime) -> InnovationVerified:
        """The stored round as an event: each decision with what it judged."""
        decided = self.decided
        common = {"revision": decided.revision, "round": round_number, "verifier": decided.verifier}
        return InnovationVerified(
            version=round_number,
            source=decided.innovation_source,
            external_id=decided.external_id,
            region_code=decided.region_code,
            unit_code=self.unit_code,
            year=decided.year,
            revision=decided.revision,
            verifier=decided.verifier,
            indicators={
                key: VerifiedDecision(
                    **decision.model_dump(),
                    judged_level=self.judged_levels[key],
                    judged_fingerprint=self.judged_claims[key],
                    **common,
                )
                for key, decision in decided.indicators.items()
            },
            eligibility={
                item: EligibilityVerdict(**verdict.model_dump(), judged_fingerprint=self.judged_items[item], **common)
                for item, verdict in decided.eligibility.items()
            },
            note=decided.note,
            verified_at=now,
        )


def review_round(
    decided: InnovationVerification, latest: Mapping[str, Any] | None, verifier_sources: Collection[str]
) -> ReviewRound | Rejection:
    """The round to store, or why it cannot be taken; `latest` is the reviewed innovation's latest version."""
    refusals = verification_refusals(decided, latest, verifier_sources)
    if refusals or latest is None:
        return Rejection.of(decided, refusals)
    return ReviewRound.of(decided, InnovationReport.model_validate(latest["data"], strict=False))


def verification_refusals(
    model: InnovationVerification, latest: Mapping[str, Any] | None, verifier_sources: Collection[str]
) -> list[Reason]:
    """Why the round cannot be taken (empty: it can); `latest` is the innovation's latest stored version."""
    if model.source not in verifier_sources:
        allowed = ", ".join(sorted(verifier_sources)) or "none"
        message = f"source: '{model.source}' may not verify innovations (the sources that may: {allowed})"
        return [Reason(field="source", code="not_a_verifier", message=message)]
    if latest is None:
        message = f"external_id: no innovation '{model.external_id}' from source '{model.innovation_source}' is stored"
        return [Reason(field="external_id", code="unknown_innovation", message=message)]
    report = latest["data"]
    reasons = []
    if latest["version"] != model.revision:
        reasons.append(
            Reason(
                field="revision",
                code="not_latest_revision",
                message=(
                    f"revision: the innovation's latest revision is {latest['version']}, not {model.revision}; "
                    "review the latest one"
                ),
            )
        )
    for name in ("region_code", "year"):
        if report[name] != getattr(model, name):
            reasons.append(
                Reason(
                    field=name,
                    code="mismatch",
                    message=f"{name}: the innovation is reported for {report[name]}, not {getattr(model, name)}",
                )
            )
    claims = report.get("indicators") or {}
    for indicator_id, decision in model.indicators.items():
        claim = claims.get(indicator_id)
        field = f"indicators.{indicator_id}"
        if claim is None:
            message = f"{field}: revision {latest['version']} does not claim indicator {indicator_id}"
            reasons.append(Reason(field=field, code="not_claimed", message=message))
        elif decision.level is not None and decision.level >= claim["level"]:
            message = (
                f"{field}.level: accepted_lower accepts a level below the claimed {claim['level']}, "
                f"not {decision.level}"
            )
            reasons.append(Reason(field=f"{field}.level", code="not_lower", message=message))
    return reasons
