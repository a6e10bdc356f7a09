"""The command line: `scripts/chaos.py` and `python -m inovda_cli.chaos` (the same options)."""

import argparse
import asyncio
import random
import sys
from collections import defaultdict
from pathlib import Path

from .. import chaos
from .forms import FULL, SERVICES, SHORT, Options
from .report import render_report
from .run import run

DESCRIPTION = chaos.__doc__.split("\n\n")[0] if chaos.__doc__ else None


def main(checkout: Path | None = None) -> None:
    """The command line; `checkout` is the working tree to run (default: the current directory)."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--short", action="store_true", help="the short form (a few hundred messages)")
    parser.add_argument("--seed", type=int, default=None, help="the data and fault order (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the broker's and database's data afterwards")
    parser.add_argument("--json", type=Path, default=None, help="where to write the result (default: var/chaos/)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="SERVICE:NAME=VALUE",
        help="run a service with another setting, e.g. notification:SMTP_MAX_ATTEMPTS=1 (repeatable)",
    )
    args = parser.parse_args()
    env: dict[str, dict[str, str]] = defaultdict(dict)
    for item in args.env:
        service, _, setting = item.partition(":")
        name, _, value = setting.partition("=")
        if service not in SERVICES or not name:
            parser.error(f"--env {item}: expected SERVICE:NAME=VALUE, SERVICE one of {', '.join(SERVICES)}")
        env[service][name] = value
    options = Options(
        SHORT if args.short else FULL,
        args.seed if args.seed is not None else random.randrange(10**6),
        checkout or Path.cwd(),
        args.keep,
        args.json,
        dict(env),
    )
    result = asyncio.run(run(options))
    print(render_report(result))
    sys.exit(0 if result["passed"] else 1)
