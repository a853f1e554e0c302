"""Searching the initiatives with the `search` library: the query (`query`), the embedding cache, keeping
the search index current (`indexing`) and the embedding jobs and their consumer."""
