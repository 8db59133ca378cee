"""Composition root of the notifications service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from crm_notifications.adapters.smtp import SmtpSender
from crm_notifications.handlers.mailer import Mailer
from crm_notifications.settings import Settings
from crm_platform.consumer import DeadLetterSink
from crm_platform.identity.directory import IdentityDirectory


@dataclass
class Container:
    pool: asyncpg.Pool
    mailer: Mailer
    directory: IdentityDirectory
    limiter: Any
    token_secret: str


def build(settings: Settings, pool: asyncpg.Pool, directory: IdentityDirectory, limiter: Any,
          dead_letter: DeadLetterSink) -> Container:
    smtp = SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_username,
                      settings.smtp_password.get_secret_value() if settings.smtp_password
                      else None, settings.smtp_starttls, settings.smtp_timeout_seconds)
    mailer = Mailer(pool, smtp, dead_letter, sender=settings.mail_from,
                    retry_delays=settings.mail_retry_delays)
    return Container(pool=pool, mailer=mailer, directory=directory, limiter=limiter,
                     token_secret=settings.token_secret.get_secret_value())
