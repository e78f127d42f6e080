"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body)>`."""
from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body`."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, header_value: str | None, app_secret: str | None) -> bool:
    """Constant-time check over the exact raw bytes; fails closed without a secret.

    Only the SHA-256 header is accepted (never the legacy SHA-1 one, and never a
    hash name taken from the request).
    """
    if not app_secret or not header_value or not header_value.startswith(PREFIX):
        return False
    # Bytes, not str: compare_digest raises TypeError on non-ASCII text (a 500, not a 401).
    return hmac.compare_digest(sign(body, app_secret).encode(), header_value.strip().encode("utf-8", "replace"))
