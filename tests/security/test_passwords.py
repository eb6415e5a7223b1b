"""Secret hashing: self-describing scrypt hashes and SIP digest HA1."""

from __future__ import annotations

import hashlib

import pytest

from faxcore.security.errors import InvalidHashError
from faxcore.security.passwords import (
    DEFAULT_PARAMS,
    ScryptParams,
    hash_secret,
    needs_rehash,
    sip_ha1,
    verify_secret,
)

FAST = ScryptParams(n=2**4, r=1, p=1)


def test_hash_is_self_describing_and_verifies() -> None:
    stored = hash_secret("s3cret!")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", DEFAULT_PARAMS.n, 8, 1)
    assert salt and digest and "s3cret" not in stored
    assert verify_secret("s3cret!", stored)


def test_wrong_secret_is_refused() -> None:
    stored = hash_secret("123456", FAST)
    assert not verify_secret("123457", stored)
    assert not verify_secret("", stored)


def test_each_hash_has_its_own_salt() -> None:
    assert hash_secret("same", FAST) != hash_secret("same", FAST)


def test_hash_matches_hashlib_scrypt_with_its_parameters() -> None:
    """Cross-check against an independent computation, so the format is really scrypt."""
    import base64

    stored = hash_secret("pässword", FAST)
    _, n, r, p, salt, digest = stored.split("$")
    raw_salt = base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))
    expected = hashlib.scrypt("pässword".encode(), salt=raw_salt, n=int(n), r=int(r),
                              p=int(p), dklen=32)
    assert base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)) == expected


def test_parameters_travel_with_the_hash() -> None:
    stored = hash_secret("abcdef", FAST)
    assert verify_secret("abcdef", stored)
    assert needs_rehash(stored)
    assert not needs_rehash(hash_secret("abcdef"))


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "bcrypt$16$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "scrypt$16$8$1$c2FsdHNhbHQ",
        "scrypt$x$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "scrypt$15$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "scrypt$1073741824$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "scrypt$16$8$1$$aGFzaGhhc2hoYXNoaGFzaA",
    ],
)
def test_foreign_or_corrupted_hash_is_an_error_not_a_mismatch(stored: str) -> None:
    with pytest.raises(InvalidHashError):
        verify_secret("anything", stored)


def test_sip_ha1_is_md5_of_user_realm_password() -> None:
    # RFC 2617 section 3.5 example: HA1 = MD5("Mufasa:testrealm@host.com:Circle Of Life").
    assert sip_ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == (
        "939e7578ed9e3c518a452acee763bce9"
    )
    assert sip_ha1("33123456789", "faxcore", "Secret12") != sip_ha1(
        "33123456789", "faxcore", "Secret13"
    )
