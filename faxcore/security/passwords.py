"""Hashes for secrets faxcore checks but never reads back, and SIP digest HA1.

Fax passwords and voicemail PINs are stored as
``scrypt$n$r$p$salt$hash`` (salt and hash in unpadded URL-safe base64): the
parameters travel with each hash, so they can be raised later without
invalidating stored secrets (``needs_rehash``). scrypt is in the standard
library (OpenSSL), memory-hard, and costs about 30 ms per check at the
defaults, which is cheap for a login and expensive for a guesser.

SIP passwords are different: Asterisk must check the ATA's digest
authentication itself. ``md5_cred`` auth objects take HA1 =
``md5(user:realm:password)``, which lets Asterisk verify digests without the
clear password; faxcore stores only that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from faxcore.security.errors import InvalidHashError

SCHEME = "scrypt"
DEFAULT_REALM = "faxcore"
SALT_BYTES = 16
HASH_BYTES = 32


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: ``n`` (CPU/memory, a power of two), block size ``r``, parallelism ``p``."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        """Bytes scrypt needs, to size OpenSSL's ``maxmem``."""
        return 128 * self.r * (self.n + self.p + 2)


DEFAULT_PARAMS = ScryptParams()
# Refuse to verify hashes asking for more than this (a tampered row must not
# make a login allocate gigabytes).
_MAX_N = 2**20
_MAX_R = 32
_MAX_P = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, params: ScryptParams, length: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=params.n, r=params.r, p=params.p,
        maxmem=params.memory + 1024 * 1024, dklen=length,
    )


def hash_secret(secret: str, params: ScryptParams = DEFAULT_PARAMS) -> str:
    """Hash ``secret`` with a fresh random salt; the result describes itself."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(secret, salt, params, HASH_BYTES)
    return f"{SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise InvalidHashError("stored secret is not a scrypt$n$r$p$salt$hash string")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except ValueError as exc:
        raise InvalidHashError(f"stored secret has a malformed field: {exc}") from exc
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        raise InvalidHashError(
            f"stored secret has out-of-range scrypt parameters n={n} r={r} p={p}"
        )
    if len(salt) < 8 or len(digest) < 16:
        raise InvalidHashError("stored secret has a salt or hash that is too short")
    return ScryptParams(n, r, p), salt, digest


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` matches ``stored``; compares in constant time.

    Raises ``InvalidHashError`` when ``stored`` is not a hash faxcore wrote,
    so corrupted data is not mistaken for a wrong password.
    """
    params, salt, digest = _parse(stored)
    candidate = _scrypt(secret, salt, params, len(digest))
    return hmac.compare_digest(candidate, digest)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT_PARAMS) -> bool:
    """True when ``stored`` was made with other parameters than today's."""
    return _parse(stored)[0] != params


def sip_ha1(user: str, realm: str, password: str) -> str:
    """SIP digest HA1, ``md5(user:realm:password)`` in hex, for Asterisk's ``md5_cred``.

    MD5 here is mandated by RFC 2617/3261 digest authentication, not chosen.
    """
    data = f"{user}:{realm}:{password}".encode()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
