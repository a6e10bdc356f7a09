"""`inovda portal-users`: the portal's accounts, managed by an operator of the innovation office.

The portal's database is found by the same settings as the portal's own (`MONGODB_URL`, `MONGODB_DATABASE`).
A password is read from standard input (asked twice on a terminal) or from a file, never from the command
line, where other users of the machine and the shell's history would see it.
"""

import datetime as dt
import getpass
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from inovda_portal.adapters.passwords import Passwords
from inovda_portal.adapters.store import PortalStore
from inovda_portal.domain.access import ROLE_LABELS, Account
from inovda_portal.service import Accounts
from inovda_shared.mongo import connect

DEFAULT_DATABASE = "inovda_portal"


def portal_database() -> str:
    return os.environ.get("MONGODB_DATABASE", DEFAULT_DATABASE)


@asynccontextmanager
async def portal_accounts(mongodb_url: str, database: str) -> AsyncIterator[Accounts]:
    client = connect(mongodb_url)
    try:
        yield Accounts(PortalStore(client[database]), Passwords(), lambda: dt.datetime.now(dt.UTC))
    finally:
        await client.close()


def read_password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
    if sys.stdin.isatty():
        first = getpass.getpass("Kata sandi baru: ")
        if getpass.getpass("Ulangi kata sandi: ") != first:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def describe(account: Account) -> str:
    scope = ", ".join(account.regions)
    if account.unit_code:
        scope += f" / {account.unit_code}"
    state = "nonaktif" if account.disabled else "aktif"
    email = f" <{account.email}>" if account.email else ""
    return f"{account.username:<24} {ROLE_LABELS[account.role]:<22} {scope:<24} {state}{email}"
