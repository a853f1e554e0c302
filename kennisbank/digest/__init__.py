"""The weekly digest: composing and sending it once per user and week (`service`), the mail it goes out
by, the subscriptions it is composed from, and the feeds that carry the same news."""
