"""Provider errors, in our terms. Adapters translate vendor failures into exactly these.

The job runner decides what to do with each (retry, fall back, give up) from `retryable`;
adapters never retry on their own.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base class. `message` is safe to show a user: it never contains credentials."""

    kind = "error"
    retryable = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(ProviderError):
    """The provider asked us to slow down; `retry_after` is in seconds when it said."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ContentRejected(ProviderError):
    """The provider's content policy refused the prompt or image. Never retried."""

    kind = "content_rejected"
    retryable = False


class InvalidRequest(ProviderError):
    """The request is invalid for this model (size, n, prompt length...). Never retried."""

    kind = "invalid_request"
    retryable = False


class Unavailable(ProviderError):
    """The provider failed or could not be reached (5xx, connection refused, bad body)."""

    kind = "unavailable"


class Timeout(ProviderError):
    """The provider did not answer within the configured time."""

    kind = "timeout"


ERROR_KINDS = ("rate_limited", "content_rejected", "invalid_request", "unavailable", "timeout")
