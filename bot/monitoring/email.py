"""The supervisors' second route: email over SMTP (aiosmtplib), independent of every chat
channel, so a notice still goes out when Telegram or WhatsApp is the thing that failed.

    RouteError   the SMTP server refused or could not be reached (the pass tries again)
"""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from bot.errors import BotError
from bot.monitorconfig import Alerts

__all__ = ["EmailRoute", "RouteError"]

SMTP_TIMEOUT_SECONDS = 15.0


class RouteError(BotError):
    """A notice could not be handed to the second route (the message names no recipient)."""


class EmailRoute:
    """Sends one plain-text message to every address in `[alerts] email_to`."""

    def __init__(self, settings: Alerts) -> None:
        self._settings = settings

    async def send(self, subject: str, body: str) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = ", ".join(s.email_to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_security == "tls",
                start_tls=True if s.smtp_security == "starttls" else False,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RouteError(
                f"the SMTP server {s.smtp_host}:{s.smtp_port} did not take the notice "
                f"({type(exc).__name__})"
            ) from None
