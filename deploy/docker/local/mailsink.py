"""The SMTP sink of the `inovda-mailsink` image: every email accepted is kept as a file and logged.

It is the project's own sink (`inovda_cli.mailsink.MailSink`, what `inovda demo` and the tests use), run as
a server: listening on 0.0.0.0:$SMTP_PORT (default 1025), writing each email to
$MAIL_DIR/<arrival in ns>-<random>.eml (written to a hidden name, then renamed: a reader never sees half an
email; names stay unique across restarts) and printing one JSON line per email on stdout. It keeps nothing
in memory. SIGTERM stops it.
"""

import email
import email.policy
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from inovda_cli.mailsink import MailSink


class FileSink(MailSink):
    def __init__(self, folder: Path, port: int) -> None:
        super().__init__(host="0.0.0.0", port=port)
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
        content = envelope.original_content or b""
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        hidden = self.folder / f".{name}"
        hidden.write_bytes(content)
        hidden.rename(self.folder / name)
        message = email.message_from_bytes(content, policy=email.policy.default)
        line = {
            "file": name,
            "to": list(envelope.rcpt_tos),
            "dedupe_key": message.get("X-Inovda-Dedupe-Key"),
            "subject": message.get("Subject"),
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return "250 OK"


def main() -> None:
    folder = Path(os.environ.get("MAIL_DIR", "/var/lib/inovda/mail"))
    folder.mkdir(parents=True, exist_ok=True)
    port = int(os.environ.get("SMTP_PORT", "1025"))
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    sink = FileSink(folder, port).start()
    print(json.dumps({"listening": port, "folder": str(folder)}), flush=True)
    stopped.wait()
    sink.stop()


if __name__ == "__main__":
    main()
