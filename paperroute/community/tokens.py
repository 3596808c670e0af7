"""Personal API tokens: shown once at creation, stored only as a digest."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from paperroute.community.errors import InvalidInput
from paperroute.community.models import ApiToken

PREFIX = "prt_"
MAX_PER_USER = 20


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(user, name: str) -> tuple[ApiToken, str]:
    """A new token for the user and its secret, which is not stored and cannot be shown again."""
    name = (name or "").strip()[:100]
    if not name:
        raise InvalidInput("give the token a name, such as 'laptop script'", "name")
    if user.api_tokens.count() >= MAX_PER_USER:
        raise InvalidInput(f"you have {MAX_PER_USER} tokens already; revoke one first", "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:10], digest=_digest(secret))
    return token, secret


def authenticate(secret: str):
    """The user a token secret belongs to, or None."""
    if not secret or not secret.startswith(PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def revoke(user, token_id: int) -> bool:
    return ApiToken.objects.filter(user=user, pk=token_id).delete()[0] > 0
