"""CSRF tokens derived from the session (pure).

The session cookie is HttpOnly and SameSite=Strict; every form also carries a token that only a page
rendered for this session can know. Deriving it from the session secret keeps it stateless, so
several nodes behind one name agree on it without sharing anything but the database.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(session_token: str) -> str:
    return hashlib.sha256(b"phonehome-csrf:" + session_token.encode()).hexdigest()


def csrf_valid(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_token), presented or "")
