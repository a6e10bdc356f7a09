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

from inovda_shared.contracts.events import EligibilityVerdict, InnovationVerified, Reason, VerifiedDecision
from inovda_shared.contracts.intake import (
    InnovationReport,
    InnovationVerification,
    claim_fingerprint,
    eligibility_fingerprints,
)


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


def verified_event(
    model: InnovationVerification, report: InnovationReport, round_number: int, now: dt.datetime
) -> InnovationVerified:
    """The stored round as an event: each decision with what it judged."""
    judged_items = eligibility_fingerprints(report)
    common = {"revision": model.revision, "round": round_number, "verifier": model.verifier}
    return InnovationVerified(
        version=round_number,
        source=model.innovation_source,
        external_id=model.external_id,
        region_code=report.region_code,
        unit_code=report.unit_code,
        year=report.year,
        revision=model.revision,
        verifier=model.verifier,
        indicators={
            key: VerifiedDecision(
                **decision.model_dump(),
                judged_level=report.indicators[key].level,
                judged_fingerprint=claim_fingerprint(report.indicators[key]),
                **common,
            )
            for key, decision in model.indicators.items()
        },
        eligibility={
            item: EligibilityVerdict(**verdict.model_dump(), judged_fingerprint=judged_items[item], **common)
            for item, verdict in model.eligibility.items()
        },
        note=model.note,
        verified_at=now,
    )
