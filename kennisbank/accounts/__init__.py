"""Accounts: users and API tokens (`service`), passwords, sessions, sign-in throttling, OIDC sign-in,
the demo accounts and a user's personal data (inspection and erasure)."""
