"""Domain errors of the digest area; web and cli turn them into statuses and exit codes."""

from __future__ import annotations


class DigestError(Exception):
    """Something asked of the digest area that cannot be done; str(exc) is fit to show."""


class InvalidSubscription(DigestError):
    """Input that fails validation; `field` names the form field at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class LinkInvalid(DigestError):
    """A confirmation or preferences link that is forged, expired or unknown."""


class TooManyRequests(DigestError):
    """The per-IP limit on the subscribe form was reached; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NothingToSend(DigestError):
    """The catalogue has no papers for the requested period."""
