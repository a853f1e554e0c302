"""Building the digest mail and handing it to SMTP.

Messages are built with the standard library's `email` package under the strict SMTP policy, which
refuses a CR or LF in any header: a user's name can never add a header (header injection). Names
are also stripped of control characters before they go into an address.
"""

from __future__ import annotations

import re
import smtplib
from datetime import UTC, datetime
import ssl
from dataclasses import dataclass
from functools import cache
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import TYPE_CHECKING, Protocol

from . import signing
from .settings import Settings
from .web.templating import STATIC_DIR, make_templates

if TYPE_CHECKING:
    from .digest import Digest

UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class SendFailed(Exception):
    """The SMTP server refused or could not be reached; the message was not sent."""


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass
class SMTPSender:
    """Sends over SMTP from the settings, one connection per run, reconnecting after a failure."""

    settings: Settings
    timeout: float = 30.0
    _connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        try:
            connection = self._connect()
            connection.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailed(str(exc)) from exc

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            if not self.settings.smtp_host:
                raise SendFailed("KENNISBANK_SMTP_HOST is not set")
            connection = smtplib.SMTP(self.settings.smtp_host, self.settings.smtp_port, timeout=self.timeout)
            if self.settings.smtp_starttls:
                connection.starttls(context=ssl.create_default_context())
            if self.settings.smtp_user:
                connection.login(self.settings.smtp_user, self.settings.smtp_password)
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._connection = None


def safe_display_name(name: str) -> str:
    return _CONTROL.sub(" ", name).strip()[:120]


def unsubscribe_url(settings: Settings, user_id: int) -> str:
    token = signing.sign(settings, UNSUBSCRIBE_PURPOSE, str(user_id))
    return f"{settings.base_url}/digest/afmelden?token={token}"


TOKENS_FILE = STATIC_DIR / "kennisbank-tokens.css"


@cache
def mail_colours() -> dict[str, str]:
    """The Kennisbank colour tokens (``--kb-color-*`` in static/kennisbank-tokens.css) by name, for mail:
    mail clients ignore CSS variables, and the tokens file stays the one declaration of each colour."""
    text = TOKENS_FILE.read_text(encoding="utf-8")
    return dict(re.findall(r"--kb-color-([a-z-]+):\s*(#[0-9a-fA-F]{3,8})\b", text))


def digest_message(settings: Settings, digest: Digest) -> EmailMessage:
    """The digest as a multipart mail (plain text and accessible HTML) with a one-click unsubscribe."""
    templates = make_templates().env
    context = {"digest": digest, "base_url": settings.base_url, "colour": mail_colours(),
               "unsubscribe_url": unsubscribe_url(settings, digest.user.id)}
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"Kennisbank: nieuws uit de provincies, {digest.period.label}"
    from_name, from_address = parseaddr(settings.smtp_from)
    message["From"] = formataddr((safe_display_name(from_name), from_address))
    message["To"] = Address(display_name=safe_display_name(digest.user.name), addr_spec=digest.user.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=f"digest-{digest.period.key}-{digest.user.id}",
                                       domain=from_address.rpartition("@")[2] or "kennisbank.local")
    message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(templates.get_template("mail/digest.txt").render(context))
    message.add_alternative(templates.get_template("mail/digest.html").render(context), subtype="html")
    return message
