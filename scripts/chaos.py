"""The fault-injection suite on this checkout: see `inovda_cli.chaos`.

.venv/bin/python scripts/chaos.py            # the full form (`make chaos`)
.venv/bin/python scripts/chaos.py --short    # the short form (tests/chaos)
"""

from pathlib import Path

from inovda_cli.chaos.command import main

if __name__ == "__main__":
    main(checkout=Path(__file__).resolve().parent.parent)
