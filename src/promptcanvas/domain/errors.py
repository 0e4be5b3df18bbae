"""Domain errors. The API edge maps each class to one HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a rule was broken; nothing was changed."""

    code = "invalid"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The thing does not exist, or is not the caller's to see."""

    code = "not_found"


class InvalidInput(DomainError):
    """The input breaks a rule (length, format, range)."""

    code = "invalid_input"


class BadRequest(DomainError):
    """The request is malformed in a way no field fix explains (e.g. a forged cursor)."""

    code = "bad_request"


class Conflict(DomainError):
    """The request clashes with the current state (immutable prompt, duplicate name)."""

    code = "conflict"


class TooLarge(DomainError):
    """The payload exceeds a configured limit."""

    code = "too_large"


class UnsupportedMedia(DomainError):
    """The uploaded bytes are not an accepted media type."""

    code = "unsupported_media"


class Unauthenticated(DomainError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """Valid credentials, refused request (e.g. a browser request without its CSRF token)."""

    code = "forbidden"


class StorageUnavailable(DomainError):
    """The file store cannot be written or read right now."""

    code = "storage_unavailable"


class StorageFull(StorageUnavailable):
    """The file store has no room left; nothing was stored."""

    code = "insufficient_storage"
