"""Operator passwords: argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).

Hashing and verifying cost tens of milliseconds of CPU on purpose; async callers
should run them in a thread (`asyncio.to_thread`), as desk.services.operators does.
"""
from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; this bounds the work a login attempt can cause

_hasher = PasswordHasher()  # argon2id, library defaults


class PasswordError(ValueError):
    """A password the desk refuses; the message says why."""


def check_policy(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the password must have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if `password` matches; False for a mismatch or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's defaults."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so that a wrong email
    costs as much time as a wrong password (no user enumeration by timing)."""
    return _hasher.hash("tsunagi-dummy-password-never-matches")
