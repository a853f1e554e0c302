"""A fingerprint of what matching looks at, so a rejected pair returns only after a material change.

Store `material_fingerprint(item)` of both initiatives with a rejection; when
recomputing, suggest the pair again only if either fingerprint differs.

Material: the set of content words of title, summary and body (stemmed, stop
words dropped), themes, technologies, suppliers, kind, phase, province,
seeking partners and the tender, start and end dates. Not material: Markdown
formatting, case, diacritics, punctuation, word order, repeated words, and
fields matching ignores (contact, budget, links, status, programme line).
A new word in the text does count, because it can make a new match.
"""

from __future__ import annotations

import hashlib
import json

from ..dutch import STOP_WORDS, stem, terms
from ..text import plain_text
from .engine import MatchItem
from .features import tag_key

FINGERPRINT_VERSION = "m1"


def material_fingerprint(item: MatchItem) -> str:
    """A short stable hash of the matching-relevant content of `item`."""
    words = sorted(
        {
            stem(term)
            for text in (item.title, item.summary, plain_text(item.body))
            for term in terms(text)
            if term not in STOP_WORDS
        }
    )
    content = {
        "words": words,
        "themes": sorted({tag_key(t) for t in item.themes}),
        "technologies": sorted({tag_key(t) for t in item.technologies}),
        "suppliers": sorted({tag_key(t) for t in item.suppliers}),
        "kind": item.kind,
        "phase": item.phase,
        "province": item.province,
        "seeks_partners": bool(item.seeks_partners),
        "dates": [d.isoformat() if d else None for d in (item.tender_date, item.start_date, item.end_date)],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{FINGERPRINT_VERSION}:{digest[:32]}"
