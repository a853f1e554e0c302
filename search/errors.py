"""Errors a search backend raises that callers are expected to handle."""

from __future__ import annotations


class SearchUnavailable(Exception):
    """The search server cannot be reached or did not answer in time.

    The database stays the source of truth: callers show a message (pages), answer 503 (API) or log
    and carry on (saves), and ``kennisbank reindex`` brings the index back in line afterwards.
    """
