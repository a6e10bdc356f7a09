"""Identities of what the submission service stores: messages, entities and their content."""

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.intake import (
    InnovationReport,
    InnovationVerification,
    IntakeModel,
    RegionProfile,
    UnitUpsert,
)


def message_key(routing_key: str, source: str, message_id: str | None, body: bytes) -> str:
    """The idempotency key of an intake message, scoped by `source`: the source its sender publishes for (once
    authenticated; `unknown` for a sender that is none), so that one sender can never pre-empt another's message.

    The sender's `message_id` when it sets one (senders choose ids independently); otherwise the content
    itself, so an identical re-send is still recognised.
    """
    digest = hashlib.sha256()
    if message_id:
        digest.update(b"id\0" + source.encode() + b"\0" + message_id.encode())
    else:
        digest.update(b"body\0" + source.encode() + b"\0" + routing_key.encode() + b"\0" + body)
    return digest.hexdigest()


def content_hash(model: BaseModel) -> str:
    """Equal for messages that say the same thing, whatever their key order or whitespace."""
    return dumped_content_hash(model.model_dump(mode="json"))


def dumped_content_hash(dumped: dict[str, Any]) -> str:
    """`content_hash` of a model from its `model_dump(mode="json")`, for a caller that stores the dump too."""
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def unit_id(region_code: str, unit_code: str) -> str:
    return f"{region_code}/{unit_code}"


def profile_id(region_code: str, year: int) -> str:
    return f"{region_code}/{year}"


def innovation_id(source: str, external_id: str) -> str:
    return f"{source}/{external_id}"


def entity_id(model: IntakeModel) -> str:
    """What the message is about; a transfer, the unit or profile it moves."""
    if isinstance(model, OwnershipTransfer):
        if model.unit_code is not None:
            return unit_id(model.region_code, model.unit_code)
        assert model.year is not None
        return profile_id(model.region_code, model.year)
    if isinstance(model, UnitUpsert):
        return unit_id(model.region_code, model.unit_code)
    if isinstance(model, RegionProfile):
        return profile_id(model.region_code, model.year)
    if isinstance(model, InnovationReport):
        return innovation_id(model.source, model.external_id)
    if isinstance(model, InnovationVerification):  # its rounds, kept per innovation it reviews
        return innovation_id(model.innovation_source, model.external_id)
    raise TypeError(f"no identity for {type(model).__name__}")
