"""Secrets the server must read back, sealed at rest with a key that is not in the database.

The authenticator app's TOTP secret cannot be hashed: the server needs it to make codes. So
it is encrypted (Fernet: AES-128-CBC with an HMAC) under a key derived from SEALING_KEY. A
database dump or a backup then holds no usable second factor; the env file holds the key.

SEALING_KEY is a key of its own so that rotating SECRET_KEY, which ends every session, does
not lock the admins out; unset, SECRET_KEY serves (development and tests). Rotating it: put
the old value in SEALING_KEY_FALLBACKS. Secrets sealed under a fallback still open, and a
TOTP secret is sealed again under the new key at its owner's next sign-in with a code.
"""

import base64
import functools

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# What a sealed column reads as when no key opens it: still set (the account keeps its
# second factor on, so no one can enrol a new one with the password alone), never a match.
UNREADABLE = "\x00unreadable"


def _fernet_key(secret_key: str) -> bytes:
    # A key of its own for this purpose, so a Fernet token never doubles as a session key.
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"r4h_pwa sealed column"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=8)
def _sealer(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def _current_sealer() -> MultiFernet:
    config = current_app.config
    key = config.get("SEALING_KEY") or config["SECRET_KEY"]
    return _sealer((key, *(config.get("SEALING_KEY_FALLBACKS") or ())))


def seal(plain: str) -> str:
    """The text encrypted under the current SEALING_KEY."""
    return _current_sealer().encrypt(plain.encode()).decode()


def unseal(token: str) -> str:
    """The text back, from a token sealed under SEALING_KEY or one of its fallbacks."""
    return _current_sealer().decrypt(token.encode()).decode()


class SealedString(sa.TypeDecorator):
    """A string column stored sealed; Python code reads and writes the plain text."""

    impl = sa.String(255)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        try:
            return unseal(value)
        except InvalidToken:
            current_app.logger.error(
                "A sealed column does not open with SEALING_KEY or SEALING_KEY_FALLBACKS"
            )
            return UNREADABLE
