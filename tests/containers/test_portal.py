"""The portal in its container: an office's account made with the operator command in the CLI container (the
password on standard input), then the region's overview through the portal's published port, showing the
index `inovda index` prints in the CLI container."""

import json
import re
import secrets
from typing import Any

import httpx

from inovda_shared.indonesian import format_number

from .outside import YEAR, Consumer, Ledger, Publisher, send, until
from .stack import Stack

REGION, PREFIX = "64.11", "CTQ"


async def test_an_office_signs_in_and_sees_the_index_the_cli_prints(
    system: Stack,
    observer: Consumer,
    results: dict[str, Consumer],
    publishers: dict[str, Publisher],
    figures: dict[str, Any],
) -> None:
    ledger = Ledger(REGION, PREFIX)
    registrations = ledger.registrations(4)
    await send(publishers, registrations, rate=30)
    ids = {intake.message_id for intake in registrations}
    assert await until(lambda: ids <= {str(s.body.get("message_id")) for c in results.values() for s in c.seen}, 120)
    await send(publishers, ledger.reports(5), rate=10)

    def scored() -> bool:
        return len([s for s in observer.of("innovation.scored") if s.body.get("region_code") == REGION]) >= 5

    assert await until(scored, 240), "the reports were not scored"

    password = secrets.token_urlsafe(18)
    added = system.compose(
        "run", "--rm", "-T", "-e", "MONGODB_DATABASE=inovda_portal", "cli",
        "inovda", "portal-users", "add", "office", "--role", "admin", "--region", REGION,
        stdin=password + "\n", timeout=180,
    )  # fmt: skip
    assert "akun dibuat" in added.stdout, added.stdout + added.stderr
    printed = system.compose(
        "run", "--rm", "-T", "cli", "inovda", "index", "--region", REGION, "--year", str(YEAR), "--json"
    )
    figures_now = json.loads(printed.stdout)
    host, port = system.compose("port", "portal", "8080").stdout.strip().rsplit(":", 1)
    assert host == "127.0.0.1"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", follow_redirects=True, timeout=30) as client:
        login = await client.get("/masuk")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token is not None
        await client.post("/masuk", data={"csrf_token": token.group(1), "username": "office", "password": password})

        async def shows_the_index() -> bool:
            page = await client.get(f"/wilayah/{REGION}/{YEAR}")
            return f'data-testid="iid">{format_number(figures_now["iid"])}<' in page.text

        shown = False
        for _ in range(60):  # the portal's read model follows the same events, a moment behind
            if shown := await shows_the_index():
                break
            await until(lambda: False, 1)
        assert shown, "the portal's overview does not show the index the CLI prints"
        overview = await client.get(f"/wilayah/{REGION}/{YEAR}")
        assert f'data-testid="predicate">{figures_now["predicate"]}<' in overview.text
        assert (await client.get(f"/wilayah/{REGION}/{YEAR}/kepatuhan.csv")).status_code == 200
    figures["portal"] = {"region": REGION, "iid": figures_now["iid"], "port": int(port)}
