"""Running Inovda's services as real processes, the way an operator (or a container) starts them."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import aio_pika


class ServiceProcess:
    """A service started from the console script beside this Python, ready once it consumes its queue."""

    def __init__(self, command: str, env: dict[str, str], queue: str, log_dir: Path = Path("var/log")) -> None:
        self.command = command
        self.queue = queue
        self._env = {**os.environ, **env}
        self._process: subprocess.Popen[bytes] | None = None
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{command}-{os.getpid()}-{id(self):x}.log"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None, "not started"
        return self._process

    async def __aenter__(self) -> "ServiceProcess":
        executable = Path(sys.executable).parent / self.command
        with self.log_path.open("ab") as log:
            # Starting a process returns at once; only waiting for one would block the loop.
            self._process = subprocess.Popen([str(executable)], env=self._env, stdout=log, stderr=log)  # noqa: ASYNC220
        await self.wait_until_consuming()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self._process.kill()

    async def wait_until_consuming(self, within_seconds: float = 30.0) -> None:
        connection = await aio_pika.connect(self._env["AMQP_URL"])
        async with connection:
            for _ in range(int(within_seconds * 5)):
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.command} exited with {self.process.returncode}; see {self.log_path}")
                channel = await connection.channel()
                try:
                    queue = await channel.declare_queue(self.queue, passive=True)
                    if (queue.declaration_result.consumer_count or 0) > 0:
                        return
                except aio_pika.exceptions.ChannelClosed:
                    pass
                finally:
                    if not channel.is_closed:
                        await channel.close()
                await asyncio.sleep(0.2)
        raise TimeoutError(
            f"{self.command} did not start consuming {self.queue} within {within_seconds}s; see {self.log_path}"
        )

    async def stop_async(self, within_seconds: float = 40.0) -> int:
        """SIGTERM, and wait for the exit without blocking the event loop."""
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, within_seconds)

    def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM, as a container runtime sends it, and the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
