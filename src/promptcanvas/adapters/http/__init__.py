"""Outbound HTTP shared by adapters: one guarded fetcher for URLs we did not choose."""

from promptcanvas.adapters.http.fetch import (
    FetchedContent,
    FetchError,
    FetchFailed,
    FetchRefused,
    FetchTimedOut,
    GuardedFetcher,
)

__all__ = [
    "FetchError",
    "FetchFailed",
    "FetchRefused",
    "FetchTimedOut",
    "FetchedContent",
    "GuardedFetcher",
]
