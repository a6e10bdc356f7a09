"""Events as the portal receives them, built from the realistic intake bodies."""

import datetime as dt
import json
from typing import Any

from inovda_cli import samples
from inovda_scoring.domain import load_rubric, score_innovation
from inovda_scoring.domain.potential import top_improvements
from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert

AT = dt.datetime(2026, 8, 1, 8, 0, tzinfo=dt.UTC)


def registered(unit_code: str = "DINKES", version: int = 1, **overrides: Any) -> UnitRegistered:
    unit = UnitUpsert.model_validate_json(json.dumps(samples.unit(unit_code, **overrides)))
    return UnitRegistered(version=version, unit=unit, registered_at=AT)


def profiled(version: int = 1, **overrides: Any) -> RegionProfileUpdated:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile(**overrides)))
    return RegionProfileUpdated(version=version, profile=profile, updated_at=AT)


def report(external_id: str = "INV-001", unit_code: str = "DINKES", **overrides: Any) -> InnovationReport:
    return InnovationReport.model_validate_json(json.dumps(samples.innovation(external_id, unit_code, **overrides)))


def submitted(report_: InnovationReport, revision: int = 1) -> InnovationSubmitted:
    return InnovationSubmitted(revision=revision, innovation=report_, submitted_at=AT + dt.timedelta(minutes=revision))


def scored(report_: InnovationReport, revision: int = 1) -> InnovationScored:
    rubric = load_rubric(report_.year)
    score = score_innovation(report_, rubric)
    return InnovationScored(
        source=report_.source,
        external_id=report_.external_id,
        unit_code=report_.unit_code,
        region_code=report_.region_code,
        year=report_.year,
        revision=revision,
        title=report_.title,
        maturity=score.maturity,
        indicators={key: value.model_dump() for key, value in score.indicators.items()},
        eligible=score.eligible,
        ineligible_reasons=list(score.ineligible_reasons),
        top_improvements=[item.model_dump() for item in top_improvements(score, rubric)],
    )


def index(version: int, iid: float, predicate: str = "Inovatif") -> RegionIndexUpdated:
    return RegionIndexUpdated.model_validate(
        {
            "region_code": samples.KUKAR,
            "year": 2026,
            "version": version,
            "spd": 30.0,
            "n": 1,
            "divisor": 12,
            "average_maturity": 4.5,
            "count_score": 0.0,
            "yandas_covered": ["kesehatan"],
            "yandas_missing": [],
            "iid": iid,
            "predicate": predicate,
            "assumed": [],
            "path": [],
        }
    )


def compliance(unit_code: str, version: int, innovations: int, eligible: int) -> UnitComplianceUpdated:
    return UnitComplianceUpdated(
        region_code=samples.KUKAR,
        year=2026,
        unit_code=unit_code,
        version=version,
        innovations=innovations,
        eligible=eligible,
        compliant=innovations > 0,
    )
