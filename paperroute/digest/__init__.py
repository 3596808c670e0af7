"""Email digests: subscribers with double opt-in, composing, the outbox and SMTP sending."""
