"""Who may change what is stored: a unit, or a region's profile for a year, belongs to the source that first
registered it (the `source` of its latest version). Another source's message for it is refused
(`owned_by_other_source`) until the operator transfers it (`ownership.transfer.v1`, `inovda units transfer`),
which stores a new version naming the new owner."""

import json
from typing import Any

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.events import Reason
from inovda_shared.contracts.intake import IntakeModel, RegionProfile, UnitUpsert

from .validation import Rejection

Stored = dict[str, Any]  # an entity as its latest version holds it


def ownership_refusal(model: IntakeModel, latest: Stored | None) -> Rejection | None:
    """A unit or profile message from another source than its owner's."""
    if not isinstance(model, UnitUpsert | RegionProfile) or latest is None or latest["source"] == model.source:
        return None
    message = (
        f"source: {_what(model)} belongs to source '{latest['source']}'; only it may change it, unless the "
        "operator transfers it (inovda units transfer)"
    )
    return Rejection.of(model, [Reason(field="source", code="owned_by_other_source", message=message)])


def transferred(transfer: OwnershipTransfer, latest: Stored | None) -> UnitUpsert | RegionProfile | Rejection:
    """The unit or profile as its new owner's, or why it cannot be transferred (it was never registered)."""
    if latest is None:
        field, code = ("unit_code", "unknown_unit") if transfer.unit_code is not None else ("year", "unknown_profile")
        message = f"{field}: {_what(transfer)} is not registered; there is nothing to transfer"
        return Rejection.of(transfer, [Reason(field=field, code=code, message=message)])
    model = UnitUpsert if transfer.unit_code is not None else RegionProfile
    return model.model_validate_json(json.dumps({**latest, "source": transfer.to_source}))


def _what(model: UnitUpsert | RegionProfile | OwnershipTransfer) -> str:
    if isinstance(model, UnitUpsert) or (isinstance(model, OwnershipTransfer) and model.unit_code is not None):
        return f"unit {model.region_code}/{model.unit_code}"
    return f"the profile of region {model.region_code} for {model.year}"
