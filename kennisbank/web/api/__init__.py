"""The JSON API under /api/v1, one module per resource (initiatives, matches, collaborations), and its
OpenAPI document."""
