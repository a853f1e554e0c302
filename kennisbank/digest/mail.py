"""Building the digest mail and handing it to SMTP.

Messages are built with the standard library's `email` package under the strict SMTP policy, which
refuses a CR or LF in any header: a user's name can never add a header (header injection). Names
are also stripped of control characters before they go into an address.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import cache
from typing import TYPE_CHECKING, Protocol

from .. import signing
from ..errors import Unavailable
from ..rendering import STATIC_DIR, mail_environment
from ..settings import Settings

if TYPE_CHECKING:
    from .service import Digest

UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class SendFailed(Unavailable):
    """The SMTP server refused or could not be reached; the message was not sent."""

    default_detail = "De mail kon niet worden verstuurd. Probeer het later opnieuw."


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


_PROPERTY = re.compile(r"--([a-z0-9-]+):\s*([^;]+);")
_REFERENCE = re.compile(r"var\(--([a-z0-9-]+)\)")
_REM = re.compile(r"(\d*\.?\d+)rem\b")
MAIL_ROOT_PX = 16  # mail clients size rem unevenly: the mail gets pixels


@cache
def design_tokens() -> dict[str, str]:
    """Every custom property of static/kennisbank-tokens.css by name (without ``--``), as mail can use it:
    mail clients ignore CSS variables, so ``var()`` references are resolved, rem becomes px and double
    quotes single ones (the values go into style attributes). The tokens file stays the one declaration."""
    text = re.sub(r"/\*.*?\*/", "", TOKENS_FILE.read_text(encoding="utf-8"), flags=re.S)
    declared = {name: value.strip() for name, value in _PROPERTY.findall(text)}

    def resolved(value: str) -> str:
        value = _REFERENCE.sub(lambda m: resolved(declared[m[1]]), value)
        value = _REM.sub(lambda m: f"{float(m[1]) * MAIL_ROOT_PX:g}px", value)
        return value.replace('"', "'")

    return {name: resolved(value) for name, value in declared.items()}


def _style(**properties: str) -> str:
    return ";".join(f"{name.replace('_', '-')}:{value}" for name, value in properties.items())


@cache
def mail_styles() -> dict[str, str]:
    """Inline styles of the NL Design System components the digest mail uses (``utrecht-*`` class names),
    built from the component tokens the vendored component CSS reads, with the Kennisbank values: the
    mail looks like the site's headings, links, buttons and cards wherever a client applies inline CSS."""
    t = design_tokens()

    def heading(level: int, top: str = "") -> str:
        return _style(
            color=t["utrecht-heading-color"],
            font_family=t["utrecht-heading-font-family"],
            font_size=t[f"utrecht-heading-{level}-font-size"],
            font_weight=t["utrecht-heading-font-weight"],
            line_height=t[f"utrecht-heading-{level}-line-height"],
            margin=f"{top or t[f'utrecht-heading-{level}-margin-block-start']} 0 "
            f"{t[f'utrecht-heading-{level}-margin-block-end']}",
        )

    def padding(component: str) -> str:
        return " ".join(
            t[f"{component}-padding-{side}"] for side in ("block-start", "inline-end", "block-end", "inline-start")
        )

    return {
        "document": _style(
            margin="0",
            padding="0",
            background_color=t["utrecht-document-background-color"],
            color=t["utrecht-document-color"],
            font_size=t["utrecht-document-font-size"],
            line_height=t["utrecht-document-line-height"],
            font_family=t["utrecht-document-font-family"],
        ),
        "page-header": _style(
            background_color=t["utrecht-page-header-background-color"],
            color=t["utrecht-page-header-color"],
            padding=f"{t['kb-space-s']} {t['kb-space-m']}",
            font_weight="700",
            margin="0",
        ),
        "page-footer": _style(
            background_color=t["utrecht-page-footer-background-color"],
            color=t["utrecht-page-footer-color"],
            padding=t["kb-space-m"],
            font_size=t["kb-font-size-s"],
            margin=f"{t['kb-space-l']} 0 0",
        ),
        "heading-1": heading(1),
        "heading-2": heading(2),
        "heading-3": heading(3),
        "card-heading": heading(3, top="0"),  # the card's padding already spaces it, as on the site
        "paragraph": _style(
            margin=f"{t['utrecht-paragraph-margin-block-start']} 0 {t['utrecht-paragraph-margin-block-end']}"
        ),
        "meta": _style(color=t["kb-color-text-muted"], font_size=t["kb-font-size-s"], margin=f"0 0 {t['kb-space-xs']}"),
        "link": _style(
            color=t["utrecht-link-color"],
            text_decoration=t["utrecht-link-text-decoration"],
            text_underline_offset=t["utrecht-link-text-underline-offset"],
        ),
        "button-link": _style(
            display="inline-block",
            background_color=t["utrecht-button-primary-action-background-color"],
            color=t["utrecht-button-primary-action-color"],
            border=f"{t['utrecht-button-border-width']} solid {t['utrecht-button-primary-action-border-color']}",
            border_radius=t["utrecht-button-border-radius"],
            font_size=t["utrecht-button-font-size"],
            font_weight=t["utrecht-button-font-weight"],
            line_height=t["utrecht-button-line-height"],
            min_height=t["utrecht-button-min-block-size"],
            box_sizing="border-box",
            padding=padding("utrecht-button"),
            text_decoration="none",
            font_family=t["utrecht-button-font-family"],
        ),
        "card-text": _style(margin="0"),
        "actions": _style(margin=f"{t['kb-space-l']} 0 {t['kb-space-m']}"),
        "list": _style(list_style="none", margin="0", padding="0"),
        "card": _style(
            border=f"1px solid {t['kb-color-line']}",
            border_radius=t["kb-radius"],
            padding=t["kb-space-m"],
            margin=f"0 0 {t['kb-space-m']}",
        ),
        "list-item": _style(margin=f"0 0 {t['kb-space-s']}"),
    }


def digest_message(settings: Settings, digest: Digest) -> EmailMessage:
    """The digest as a multipart mail (plain text and accessible HTML) with a one-click unsubscribe."""
    templates = mail_environment()
    context = {
        "digest": digest,
        "base_url": settings.base_url,
        "style": mail_styles(),
        "unsubscribe_url": unsubscribe_url(settings, digest.user.id),
    }
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"Kennisbank: nieuws uit de provincies, {digest.period.label}"
    from_name, from_address = parseaddr(settings.smtp_from)
    message["From"] = formataddr((safe_display_name(from_name), from_address))
    message["To"] = Address(display_name=safe_display_name(digest.user.name), addr_spec=digest.user.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(
        idstring=f"digest-{digest.period.key}-{digest.user.id}",
        domain=from_address.rpartition("@")[2] or "kennisbank.local",
    )
    message["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(templates.get_template("mail/digest.txt").render(context))
    message.add_alternative(templates.get_template("mail/digest.html").render(context), subtype="html")
    return message
