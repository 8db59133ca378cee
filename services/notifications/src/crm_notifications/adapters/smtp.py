"""Hands one email to an SMTP relay (the local sink, or any relay by setting).
Blocking smtplib, run in a thread by the caller."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_seconds: float = 10.0

    def send(self, message: EmailMessage) -> None:
        """Returns once the relay accepted the message; raises SMTPException or OSError."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
