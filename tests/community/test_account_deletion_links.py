"""Deleting an account deletes the sign-in links sent to its address, and no one else's."""

from __future__ import annotations

import pytest

from paperroute.community import accounts
from paperroute.community.models import SignInLink


@pytest.mark.django_db
def test_deleting_an_account_leaves_a_look_alike_addresses_sign_in_links():
    """PostgreSQL's UPPER() folds 'ı' to 'I' and 'ſ' to 'S': deleting by email__iexact took the
    unused link just mailed to 'sid@maıl.example' (someone else's address) with Sid's account,
    and that reader's link stopped working. Only ASCII letters' case may differ, as for signing
    in (accounts.same_address)."""
    sid = accounts.user_for("sid@mail.example")
    for nonce, email in [
        ("sid", "sid@mail.example"),
        ("capitals", "SID@mail.example"),  # the same address: Sid's link
        ("dotless", "sid@maıl.example"),
        ("long-s", "ſid@mail.example"),
        ("other", "ada@mail.example"),
    ]:
        SignInLink.objects.create(nonce=nonce, email=email)
    accounts.delete(sid)
    assert sorted(SignInLink.objects.values_list("nonce", flat=True)) == ["dotless", "long-s", "other"]
