"""Who may see and do what in the portal. Every page and form asks these rules, on the server.

- `admin`: an innovation office (BRIDA): everything in its regions, the review included.
- `mentor`: a member of the mentoring team (tim pendampingan): its regions' overview and what-if, and the
  units whose `mentor_emails` name its email address.
- `verifier`: a verifier of the innovation office: its regions' pages (read-only) and the review of every
  innovation in them (the review queue, one decision per indicator).
- `unit`: a unit's operator: its own unit (pages, report form), nothing else.

What an account may not see does not exist for it: the pages answer 404, never "forbidden", so that a URL
edited by hand tells nothing about other units.
"""

import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from inovda_shared.contracts.fields import RegionCode, UnitCode

from .model import UnitEntry

Role = Literal["admin", "mentor", "verifier", "unit"]
ROLES: tuple[Role, ...] = ("admin", "mentor", "verifier", "unit")
ROLE_LABELS: dict[Role, str] = {
    "admin": "Admin kantor inovasi",
    "mentor": "Tim pendampingan",
    "verifier": "Pemverifikasi",
    "unit": "Operator unit",
}

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def _username(value: str) -> str:
    if not _USERNAME.fullmatch(value):
        raise ValueError("a user name is 3 to 64 lower-case letters, digits, dots, dashes or underscores")
    return value


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


Username = Annotated[str, AfterValidator(_username)]


class Account(BaseModel):
    """A portal account, without its password (that is the store's, hashed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: Username
    role: Role
    regions: Annotated[tuple[RegionCode, ...], Field(min_length=1)]
    unit_code: UnitCode | None = None
    email: Annotated[str | None, AfterValidator(_email)] = None
    disabled: bool = False
    # Raised by a password reset or a disable: every session signed before it ends.
    session_version: int = 1

    @model_validator(mode="after")
    def _role_needs(self) -> "Account":
        if self.role == "unit" and (self.unit_code is None or len(self.regions) != 1):
            raise ValueError("a unit account names exactly one region and its unit (--region, --unit)")
        if self.role != "unit" and self.unit_code is not None:
            raise ValueError("only a unit account names a unit")
        if self.role == "mentor" and self.email is None:
            raise ValueError("a mentor account needs its email address (--email): units name their mentors by it")
        return self

    @property
    def region(self) -> str:
        """The first (for a unit account, the only) region."""
        return self.regions[0]


def may_view_region(account: Account, region_code: str) -> bool:
    """The region's overview, its compliance table and its what-if."""
    return account.role in ("admin", "mentor", "verifier") and region_code in account.regions


def may_verify(account: Account, region_code: str) -> bool:
    """Decide on the evidence of the region's innovations: its verifiers and its office."""
    return account.role in ("admin", "verifier") and region_code in account.regions


def may_view_unit(account: Account, region_code: str, unit: UnitEntry) -> bool:
    if region_code not in account.regions:
        return False
    if account.role in ("admin", "verifier"):
        return True
    if account.role == "mentor":
        return account.email is not None and account.email in unit.mentor_emails
    return unit.unit_code == account.unit_code


def may_report_for(account: Account, region_code: str, unit: UnitEntry) -> bool:
    """Report or revise an innovation of this unit: its operator, or its region's office."""
    if account.role in ("mentor", "verifier"):
        return False
    return may_view_unit(account, region_code, unit)


def visible_units(account: Account, region_code: str, units: Iterable[UnitEntry]) -> list[UnitEntry]:
    return [unit for unit in units if may_view_unit(account, region_code, unit)]
