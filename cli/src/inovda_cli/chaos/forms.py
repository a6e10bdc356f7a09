"""The two forms of a run, its options, and what every part of it shares: the years, the services and their
databases, the checkout's paths, the clock."""

import time
from dataclasses import dataclass, field
from pathlib import Path

YEAR = 2025  # not the current year: no reminders or digests, so every expected email follows from the data
NO_RUBRIC_YEAR = 2027  # rejected at intake (`no_rubric_for_year`): nothing could score it
SERVICES = ("submission", "scoring", "notification", "portal")
DATABASES = {service: f"chaos_{service}" for service in SERVICES}
# In the checkout the run is given (a working tree of this repository).
FERRETDB_BIN = Path("var/bin/ferretdb")
ACCESS = Path("deploy/rabbitmq/access.json")
BROKER_LIMITS = Path("deploy/rabbitmq/limits.conf")
OUT = Path("var/chaos")


@dataclass(frozen=True)
class Form:
    name: str
    regions: int
    units_per_region: int
    innovations_per_region: int
    no_rubric_innovations: int
    faults_per_kind: int  # kill9 and sigterm: this many per service
    publish_rate: float  # intake messages per second
    burst: int  # innovation reports a kill or SIGTERM brings along when its target is idle
    gap_seconds: float  # between faults
    fault_seconds: float  # the bound on the whole fault schedule
    settle_seconds: float  # at most, after the last fault, for everything to come out


def regions_of(form: Form) -> list[str]:
    """The run's regions (BPS codes): Kukar's, and the ones after it."""
    return [f"64.{number:02d}" for number in range(2, 2 + form.regions)]


SHORT = Form("short", 2, 8, 55, 2, 2, 12.0, 12, 3.0, 900.0, 420.0)
FULL = Form("full", 4, 24, 380, 6, 3, 12.0, 30, 5.0, 2400.0, 1500.0)


@dataclass(frozen=True)
class Options:
    form: Form
    seed: int
    checkout: Path  # the working tree whose FerretDB binary and access model it uses, and where it writes
    keep: bool = False
    json_path: Path | None = None
    env: dict[str, dict[str, str]] = field(default_factory=dict)


def now() -> float:
    return time.monotonic()
