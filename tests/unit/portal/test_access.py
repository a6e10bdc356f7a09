"""Who may see and do what: the rules every page asks, on the server."""

import pytest
from pydantic import ValidationError

from inovda_portal.domain.access import (
    Account,
    may_report_for,
    may_verify,
    may_view_region,
    may_view_unit,
    visible_units,
)
from inovda_portal.domain.model import UnitEntry

KUKAR, OTHER = "64.02", "64.03"


def unit(code: str, mentors: tuple[str, ...] = ()) -> UnitEntry:
    return UnitEntry(unit_code=code, name=code, kind="opd", mentor_emails=mentors, version=1)


ADMIN = Account(username="brida", role="admin", regions=(KUKAR,))
MENTOR = Account(username="pendamping", role="mentor", regions=(KUKAR,), email="mentor.a@kukarkab.example")
OPERATOR = Account(username="dinkes", role="unit", regions=(KUKAR,), unit_code="DINKES")
DINKES = unit("DINKES", ("mentor.a@kukarkab.example",))
DISHUB = unit("DISHUB", ("mentor.b@kukarkab.example",))


def test_an_office_sees_and_reports_for_every_unit_of_its_regions_only() -> None:
    assert may_view_region(ADMIN, KUKAR)
    assert not may_view_region(ADMIN, OTHER)
    assert may_view_unit(ADMIN, KUKAR, DISHUB)
    assert may_report_for(ADMIN, KUKAR, DISHUB)
    assert not may_view_unit(ADMIN, OTHER, DISHUB)


def test_a_mentor_sees_the_units_that_name_it_and_reports_for_none() -> None:
    assert may_view_region(MENTOR, KUKAR)
    assert visible_units(MENTOR, KUKAR, [DINKES, DISHUB]) == [DINKES]
    assert not may_report_for(MENTOR, KUKAR, DINKES)


def test_a_unit_operator_sees_and_reports_for_its_own_unit_and_not_the_region() -> None:
    assert not may_view_region(OPERATOR, KUKAR)
    assert may_view_unit(OPERATOR, KUKAR, DINKES)
    assert may_report_for(OPERATOR, KUKAR, DINKES)
    assert not may_view_unit(OPERATOR, KUKAR, DISHUB)
    assert not may_view_unit(OPERATOR, OTHER, unit("DINKES"))  # the same code in another region


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "unit", "regions": (KUKAR,)},  # no unit
        {"role": "unit", "regions": (KUKAR, OTHER), "unit_code": "DINKES"},  # a unit is in one region
        {"role": "mentor", "regions": (KUKAR,)},  # no email
        {"role": "admin", "regions": (KUKAR,), "unit_code": "DINKES"},
        {"role": "admin", "regions": ()},
        {"role": "admin", "regions": ("Kukar",)},
        {"role": "owner", "regions": (KUKAR,)},
    ],
)
def test_an_account_that_breaks_a_rule_of_its_role_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Account.model_validate({"username": "someone", **fields})


def test_user_names_are_plain() -> None:
    for name in ("ab", "Brida", "brida kukar", "../admin", "a" * 65):
        with pytest.raises(ValidationError):
            Account(username=name, role="admin", regions=(KUKAR,))


VERIFIER = Account(username="verifikator", role="verifier", regions=(KUKAR,))


def test_a_verifier_reviews_and_sees_its_regions_innovations_and_reports_for_none() -> None:
    assert may_verify(VERIFIER, KUKAR)
    assert may_verify(ADMIN, KUKAR)
    assert not may_verify(VERIFIER, OTHER)
    assert not any(may_verify(account, KUKAR) for account in (MENTOR, OPERATOR))
    assert may_view_region(VERIFIER, KUKAR)
    assert visible_units(VERIFIER, KUKAR, [DINKES, DISHUB]) == [DINKES, DISHUB]
    assert not may_report_for(VERIFIER, KUKAR, DINKES)
