"""Running Inovda's services as real processes, the way an operator (or a container) starts them."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """A service started from the console script beside this Python, ready once `/health/ready` says so."""

    def __init__(self, command: str, env: dict[str, str], log_dir: Path = Path("var/log")) -> None:
        self.command = command
        self.http_port = int(env.get("HTTP_PORT") or free_port())
        self._env = {**os.environ, **env, "HTTP_PORT": str(self.http_port)}
        self._process: subprocess.Popen[bytes] | None = None
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{command}-{os.getpid()}-{id(self):x}.log"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not started"
        return self._process

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def __aenter__(self) -> "ServiceProcess":
        self.start()
        await self.wait_until_ready()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self._process.wait, 40)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def start(self) -> None:
        executable = Path(sys.executable).parent / self.command
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen([str(executable)], env=self._env, stdout=log, stderr=log)

    def health(self, path: str = "/health/ready") -> int:
        """The HTTP status of a health endpoint, 0 when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    async def wait_until_ready(self, within_seconds: float = 30.0) -> None:
        for _ in range(int(within_seconds * 5)):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self.process.returncode}; see {self.log_path}")
            if await asyncio.to_thread(self.health) == 200:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.command} was not ready within {within_seconds}s; see {self.log_path}")

    async def stop_async(self, within_seconds: float = 40.0) -> int:
        """SIGTERM, as a container runtime sends it, and the exit code (without blocking the event loop)."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, within_seconds)

    def stop(self, within_seconds: float = 40.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=within_seconds)

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to finish anything."""
        self.process.kill()
        self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
