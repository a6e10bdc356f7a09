"""The portal served in this process (uvicorn on a free port) and a signed-in HTTP client for it."""

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import httpx
import uvicorn

from inovda_cli.processes import free_port
from inovda_portal.app import create_app
from inovda_portal.settings import PortalSettings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def portal_settings(amqp_url: str, mongodb_url: str, database: str) -> PortalSettings:
    return PortalSettings(
        amqp_url=amqp_url,
        mongodb_url=mongodb_url,
        mongodb_database=database,
        http_port=free_port(),
        http_host="127.0.0.1",
        session_secret=secrets.token_urlsafe(32),
        session_cookie_secure=False,
    )


class PortalServer:
    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.http_port}"
        self._server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.http_port, log_level="warning")
        )
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "PortalServer":
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(200):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        raise TimeoutError("the portal did not start")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF.search(page.text)
    assert match, f"no form on {path}: {page.status_code}"
    return match.group(1)


@asynccontextmanager
async def signed_in(url: str, username: str, password: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, follow_redirects=True, timeout=30) as client:
        token = await csrf_of(client, "/masuk")
        answer = await client.post("/masuk", data={"csrf_token": token, "username": username, "password": password})
        assert answer.status_code == 200, answer.text[:500]
        yield client
