"""Requests to a service that are not facts: sent by an operator's command or a dead letter replayed."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from .fields import Source, UnitCode, Year
from .intake import IntakeModel


class EmailResend(BaseModel):
    """Send an email again by its dedupe key: a failed one (its dead letter replayed), or one in doubt that the
    mail server's log does not have (`inovda emails resend`). A confirmed one is never sent again."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    # Published to the notification queue itself (the default exchange), with this routing key in the
    # original-routing-key header, as a dead-letter replay is.
    routing_key: ClassVar[str] = "notification.email.resend"

    dedupe_key: str


class OwnershipTransfer(IntakeModel):
    """Move a unit (`unit_code`) or a region's profile for a year (`year`) to another source, which may change
    it from then on (`inovda units transfer`). Published to `inovda.intake` by the operator's broker user, with
    `source` the operator's (`operator`), and answered like any intake message (on `intake.*.operator`)."""

    routing_key: ClassVar[str] = "ownership.transfer.v1"

    unit_code: UnitCode | None = None
    year: Year | None = None
    to_source: Source

    @model_validator(mode="after")
    def _one_entity(self) -> "OwnershipTransfer":
        if (self.unit_code is None) == (self.year is None):
            raise PydanticCustomError(
                "missing", "name either unit_code (a unit) or year (the region's profile)", {"field": "unit_code"}
            )
        return self

    def key(self) -> dict[str, str | int]:
        if self.unit_code is not None:
            return {"region_code": self.region_code, "unit_code": self.unit_code}
        assert self.year is not None
        return {"region_code": self.region_code, "year": self.year}
