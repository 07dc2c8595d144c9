"""Delivering codes and invitations: by SMTP when configured, else to an outbox file.

The outbox (`<data_dir>/outbox`, mode 0600) holds one JSON object per line — time, pool,
username, medium, destination, purpose, subject, message and the code — for local development
and tests, where no mail server exists; `authgate outbox` prints it. SMS always goes to the
outbox: authgate has no SMS provider. A delivery failure is logged, never shown to the caller
(Cognito's API does not fail a sign-up because a mail bounced).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import smtplib
import ssl
import threading
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger("authgate.identity")

OUTBOX_FILE = "outbox"


@dataclass(frozen=True, slots=True)
class Message:
    time: float
    pool_id: str
    username: str
    medium: str
    """EMAIL or SMS."""
    destination: str
    purpose: str
    subject: str
    message: str
    code: str


class SmtpServer(Protocol):
    """The `smtp:` block of authgate.yaml (`settings.SmtpSettings`)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def sender(self) -> str: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...
    @property
    def starttls(self) -> bool: ...


class Courier(Protocol):
    async def deliver(self, message: Message) -> None: ...


class FileOutbox:
    """Appends each message as a JSON line; lines are written whole under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    async def deliver(self, message: Message) -> None:
        line = json.dumps(asdict(message), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(line)


class SmtpCourier:
    """Email by SMTP (in a worker thread); SMS to the outbox."""

    def __init__(self, settings: SmtpServer, outbox: FileOutbox) -> None:
        self._settings = settings
        self._outbox = outbox

    async def deliver(self, message: Message) -> None:
        if message.medium != "EMAIL":
            await self._outbox.deliver(message)
            return
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("could not deliver a %s message by SMTP: %s", message.purpose, exc)

    def _send(self, message: Message) -> None:
        settings = self._settings
        mail = EmailMessage()
        mail["From"] = settings.sender
        mail["To"] = message.destination
        mail["Subject"] = message.subject
        mail.set_content(message.message)
        with smtplib.SMTP(settings.host, settings.port, timeout=10) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username and settings.password:
                smtp.login(settings.username, settings.password)
            smtp.send_message(mail)
