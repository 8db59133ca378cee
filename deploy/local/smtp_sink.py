"""A local SMTP server that delivers nowhere: every message becomes a file.

Each message accepted on 127.0.0.1:1025 is written to
.local/run/smtp/messages/<UTC timestamp>-<n>.eml, first under a hidden
temporary name and then renamed, so a reader never sees half a message.
The reply to DATA names the file ("250 OK stored as /path/x.eml").
The envelope (MAIL FROM / RCPT TO, which Bcc recipients appear only in) is
kept in two headers put in front of the message: X-Envelope-From and
X-Envelope-To.

    uv run python deploy/local/smtp_sink.py [--host H] [--port P] [--folder DIR]
"""

import argparse
import asyncio
import itertools
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FOLDER = REPO / ".local" / "run" / "smtp" / "messages"


class SaveToFolder:
    """aiosmtpd handler: one .eml file per accepted message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        body = envelope.original_content or b""
        stored = self.store(envelope_headers + body)
        # The reply names the file, so a test knows which one is its message.
        return f"250 OK stored as {stored}"

    def store(self, message: bytes) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{next(self.counter)}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(message)
        final = self.folder / name
        os.replace(temporary, final)
        return final


async def serve(host: str, port: int, folder: Path) -> None:
    handler = SaveToFolder(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="crm-smtp-sink"), host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"SMTP sink on {host}:{port}, messages in {folder}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.host, args.port, args.folder))


if __name__ == "__main__":
    main()
