"""Users, API keys, login links and browser sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from promptcanvas.domain.errors import InvalidInput

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KEY_PREFIX = "pck_"


@dataclass
class User:
    """A person (or service) that owns prompts, assets and projects."""

    id: str
    name: str
    is_admin: bool
    created_at: datetime


@dataclass
class ApiKey:
    """An API key; only the SHA-256 of the secret is stored."""

    id: str
    user_id: str
    name: str | None
    prefix: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def clean_user_name(name: str) -> str:
    """User names: 1-64 characters of letters, digits, '_', '.', '-'."""
    if not _NAME.match(name):
        raise InvalidInput(
            "a user name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
            {"field": "name"},
        )
    return name


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (keys, tokens); these need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str = "") -> str:
    """A URL-safe secret with 256 bits of entropy."""
    return prefix + secrets.token_urlsafe(32)


def csrf_token(session: str) -> str:
    """The CSRF token of a browser session: derived from its secret, so it needs no storage and
    a page on another origin (which cannot read the HttpOnly cookie) cannot compute it."""
    return hmac.new(session.encode(), b"promptcanvas-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session: str, token: str) -> bool:
    """Whether a submitted CSRF token belongs to the session (constant-time)."""
    return hmac.compare_digest(csrf_token(session), token)
