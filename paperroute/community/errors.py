"""Domain errors of the community area; the web layer turns them into statuses and pages."""

from __future__ import annotations


class CommunityError(Exception):
    """Something a user asked for that cannot be done; str(exc) is fit to show them."""


class RateLimited(CommunityError):
    """Too many actions of one kind in a period; `retry_after` says when to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotAllowed(CommunityError):
    """The user may not do this (someone else's comment, a hidden thread)."""


class InvalidInput(CommunityError):
    """Input that fails validation; `field` names the form field at fault."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class MailNotSent(CommunityError):
    """The mail server refused or could not be reached; nothing went out, so nothing was used up."""


class SignInLinkInvalid(CommunityError):
    """A sign-in link that is forged, expired or already used."""
