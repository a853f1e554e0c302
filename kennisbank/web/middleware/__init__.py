"""The middleware every request passes, in the app factory's order: a request id, the security headers,
the API's transport rules, authentication (who is asking, and the login requirement) and the CSRF check."""
