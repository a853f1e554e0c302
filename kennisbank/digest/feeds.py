"""Atom 1.0 feeds (RFC 4287) of initiatives, for people who follow a subscription in a feed reader."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree

from ..models import Initiative

ATOM = "http://www.w3.org/2005/Atom"

#: What XML 1.0 cannot hold at all (control characters but tab and line breaks, surrogates, U+FFFE/F).
#: Validation refuses them in new input; texts stored before that are cleaned here, so one old row
#: cannot make a whole feed unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _element(parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = xml_text(text)
    return element


def atom_feed(*, title: str, feed_url: str, site_url: str, initiatives: Sequence[Initiative]) -> bytes:
    """The feed as UTF-8 XML. ElementTree escapes every text, so titles cannot inject markup."""
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _element(feed, "title", title)
    _element(feed, "id", feed_url)
    _element(feed, "link", rel="self", href=feed_url)
    _element(feed, "link", rel="alternate", href=site_url)
    updated = max((i.updated_at for i in initiatives), default=datetime.now(UTC))
    _element(feed, "updated", updated.astimezone(UTC).isoformat())
    author = _element(feed, "author")
    _element(author, "name", "Kennisbank provincies")
    for initiative in initiatives:
        url = f"{site_url}/initiatieven/{initiative.id}"
        entry = _element(feed, "entry")
        _element(entry, "title", initiative.title)
        _element(entry, "id", url)
        _element(entry, "link", rel="alternate", href=url)
        _element(entry, "updated", initiative.updated_at.astimezone(UTC).isoformat())
        _element(entry, "summary", f"{initiative.province.name}: {initiative.summary}")
        _element(entry, "category", term=initiative.province.code, label=initiative.province.name)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
