"""The dashboard: the figures about initiatives, matches and collaborations (`service`) and the charts
that show them."""
