"""Backends for the search contract suite.

Every test that takes `open_backend` runs once per backend. The
Meilisearch run needs a server: set KENNISBANK_MEILI_URL (and, if the
server has a master key, KENNISBANK_MEILI_KEY).

There is deliberately no __init__.py in this folder: a test package named
`search` would shadow the library. Test modules import each other by bare
name (`from test_contract import CORPUS`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search.index import SearchIndex

OpenBackend = Callable[[], SearchIndex]


def _meili_or_skip() -> tuple[str, str | None]:
    url = os.environ.get("KENNISBANK_MEILI_URL", "").strip()
    key = os.environ.get("KENNISBANK_MEILI_KEY") or None
    reason = f"no Meilisearch server reachable at {url or '(unset)'}; set KENNISBANK_MEILI_URL to run"
    if not url:
        pytest.skip(reason)
    import meilisearch

    try:
        healthy = meilisearch.Client(url, key, timeout=2).is_healthy()
    except Exception:
        healthy = False
    if not healthy:
        pytest.skip(reason)
    return url, key


@pytest.fixture(params=["tantivy", "meilisearch"])
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenBackend]:
    """A function that opens (or re-opens) the same fresh, empty index."""
    opened: list[SearchIndex] = []
    if request.param == "tantivy":
        from search.tantivy_index import TantivyIndex

        def open_() -> SearchIndex:
            opened.append(TantivyIndex(tmp_path / "index"))
            return opened[-1]

    else:
        url, key = _meili_or_skip()
        from search.meili_index import MeiliIndex

        name = f"kennisbank_test_{uuid.uuid4().hex[:12]}"

        def open_() -> SearchIndex:
            opened.append(MeiliIndex(url, key, name))
            return opened[-1]

    yield open_
    for index in opened:
        index.close()
    if request.param == "meilisearch":
        import meilisearch

        client = meilisearch.Client(url, key)
        client.wait_for_task(client.delete_index(name).task_uid)
