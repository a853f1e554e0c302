"""The HTML pages, one module per concept: initiatives, accounts (and the OIDC sign-in), the beheerder's
admin and import, subscriptions and the digest, matches, collaborations, introductions and the dashboard."""
