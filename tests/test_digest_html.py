"""The HTML part of the digest, as a real SMTP server (aiosmtpd) receives it from the real CLI: NL Design System
components (headings, links, button links, cards) styled inline with the Kennisbank tokens, accessible."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from kennisbank.digest.mail import TOKENS_FILE, design_tokens, mail_styles
from tests.conftest import REPO
from tests.test_digest import THIS_WEEK, mailbox, run_cli, smtp, subscriber  # noqa: F401 (mailbox: the server)

#: Link texts that do not say where a link goes (WCAG 2.4.4).
VAGUE = {"hier", "klik hier", "lees meer", "meer", "bekijk", "link", "deze pagina"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parents: list[str]
    text: str = ""


@dataclass
class Outline(HTMLParser):
    """The elements of a page with their attributes, the tags around them and their text."""

    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, [e.tag for e in self._open])
        self.elements.append(element)
        if tag not in {"meta", "br", "hr", "img"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


def classes(element: Element) -> set[str]:
    return set(element.attrs.get("class", "").split())


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_delivered_html_uses_the_nl_design_system_components_with_the_kennisbank_tokens(
    anonymous,
    data_dir,
    mailbox,  # noqa: F811
):
    handler, port = mailbox
    subscriber(anonymous, "coordinator@ida.example", None, theme="water", role="coordinator")
    anonymous.create_initiative(
        external_id="LI-1", province="NL-LI", themes=["water"], title="Slimme stuwen tegen droogte in Limburg"
    )
    anonymous.create_initiative(
        external_id="ZE-1", province="NL-ZE", themes=["water"], title="Zoetwatervoorziening op de Zeeuwse eilanden"
    )
    sent = run_cli(data_dir, "digest", "--week", THIS_WEEK, "--send", **smtp(port))
    assert sent.returncode == 0, sent.stderr

    [message] = handler.to("coordinator@ida.example")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    page = Outline()
    page.feed(html)
    style = mail_styles()

    assert page.all("html")[0].attrs["lang"] == "nl"
    [body] = page.all("body")
    assert "utrecht-document" in classes(body) and body.attrs["style"] == style["document"]

    headings = [e for e in page.elements if re.fullmatch(r"h[1-6]", e.tag)]
    levels = [int(h.tag[1]) for h in headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels  # no level skipped
    for heading in headings:
        assert f"utrecht-heading-{heading.tag[1]}" in classes(heading), heading
        in_card = "li" in heading.parents
        assert heading.attrs["style"] == style["card-heading" if in_card else f"heading-{heading.tag[1]}"], heading
    assert all("section" in h.parents for h in headings if h.tag == "h2")  # each h2 opens its own section
    assert {"Thema: water", "Beoordelingswachtrij"} <= {words(h.text) for h in headings if h.tag == "h2"}
    item_titles = {words(h.text) for h in headings if h.tag == "h3"}
    assert {"Slimme stuwen tegen droogte in Limburg", "Zoetwatervoorziening op de Zeeuwse eilanden"} <= item_titles

    links = page.all("a")
    for link in links:
        assert words(link.text).lower() not in VAGUE and words(link.text), link
        assert link.attrs["href"].startswith("http://127.0.0.1:8000/"), link
        assert link.attrs["href"] in text, link  # the plain-text part offers every link too
        if "utrecht-button-link" in classes(link):
            assert "utrecht-button-link--primary-action" in classes(link)
            assert link.attrs["style"] == style["button-link"]
        else:
            assert "utrecht-link" in classes(link) and link.attrs["style"] == style["link"], link
    buttons = {words(b.text): b.attrs["href"] for b in links if "utrecht-button-link" in classes(b)}
    assert buttons == {
        "Bekijk de beoordelingswachtrij": "http://127.0.0.1:8000/matches",
        "Bekijk alle initiatieven in de Kennisbank": "http://127.0.0.1:8000/initiatieven",
    }
    cards = [li for li in page.all("li") if "kennisbank-card" in classes(li)]
    assert len(cards) == 2 and all(card.attrs["style"] == style["card"] for card in cards)
    assert style["card-heading"].split(";")[:-1] == style["heading-3"].split(";")[:-1]  # all but the margin

    tokens = design_tokens()
    assert f"background-color:{tokens['kb-color-primary']}" in style["button-link"]
    assert f"color:{tokens['kb-color-primary']}" in style["link"]
    assert "min-height:44px" in style["button-link"]  # the token's target size, in pixels
    assert "Bekijk alle initiatieven in de Kennisbank: http://127.0.0.1:8000/initiatieven" in text


def test_the_mail_styles_resolve_the_tokens_into_values_mail_clients_apply():
    """Mail clients ignore CSS variables and size rem unevenly: every token reaches the mail as a value, in px."""
    source = TOKENS_FILE.read_text(encoding="utf-8")
    xl = float(re.search(r"--kb-font-size-xl:\s*([\d.]+)rem", source)[1])
    assert re.search(r"--utrecht-heading-2-font-size:\s*var\(--kb-font-size-xl\)", source)
    assert f"font-size:{xl * 16:g}px" in mail_styles()["heading-2"]
    for name, value in mail_styles().items():
        assert "var(" not in value and not re.search(r"\drem\b", value) and '"' not in value, name


def test_the_digest_template_writes_no_style_value_of_its_own():
    """Every colour, size and font of the mail comes from the tokens, through `mail_styles`."""
    template = (REPO / "templates" / "mail" / "digest.html").read_text(encoding="utf-8")
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", template)
    assert not re.findall(r"\b(?:color|font-size|font-family|background(?:-color)?)\s*:", template)
    assert set(re.findall(r"style\['([a-z0-9-]+)'\]", template)) <= set(mail_styles())
