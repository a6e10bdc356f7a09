"""Where an innovation counts, and the keys of what scoring keeps: one region-year, one unit of it."""

from dataclasses import dataclass


class InnovationMoved(ValueError):  # noqa: N818 - named for what happened
    """A revision names another region or year than the innovation's first one; submission refuses those."""


def innovation_key(source: str, external_id: str) -> str:
    return f"{source}/{external_id}"


def region_key(region_code: str, year: int) -> str:
    return f"{region_code}/{year}"


def compliance_key(region_code: str, year: int, unit_code: str) -> str:
    return f"{region_code}/{year}/{unit_code}"


@dataclass(frozen=True)
class Placement:
    """Where an innovation counts: its region, assessment year and unit (a revision may change the unit)."""

    region_code: str
    year: int
    unit_code: str

    @property
    def region(self) -> str:
        return region_key(self.region_code, self.year)

    @property
    def compliance(self) -> str:
        return compliance_key(self.region_code, self.year, self.unit_code)

    def refuse_move_from(self, previous: "Placement | None", key: str) -> None:
        """A revision of innovation `key` may change its unit, never its region or year."""
        if previous is not None and previous.region != self.region:
            raise InnovationMoved(f"{key} moved from {previous.region} to {self.region}")
