"""Fetch a URL that somebody else handed us (a provider's result link, a user's import URL)
without letting that URL reach into our own network.

Rules, checked for the first request and again for every redirect hop:
- only `http` and `https`;
- every address the host resolves to must be public: loopback, private, link-local (and so
  the cloud metadata services at 169.254.169.254 and fd00:ec2::254), shared (CGNAT),
  multicast, reserved and unspecified addresses are refused, also when wrapped in an IPv6
  address (IPv4-mapped, 6to4, Teredo, NAT64);
- except for a URL whose origin (scheme, host, port) is one of `allowed_origins`: the base
  URL of a configured provider may well be on the LAN, and the deployer chose it;
- redirects are followed by hand, at most `MAX_REDIRECTS` of them;
- the body is streamed and refused once it passes `max_bytes`; the whole fetch, redirects
  included, must finish within `timeout` seconds.

DNS rebinding: a host is resolved once, the answer is checked, and the connection goes to the
checked address (the request URL carries the IP; the Host header, TLS SNI and the certificate
check keep the name), so a second lookup cannot swap in a private address. Residual risks:
the lookup itself is bounded only by the system resolver's own timeout, and allowed origins
are connected to by name, unchecked, because they are trusted configuration.

Messages name URLs as scheme://host:port/path only: query strings and userinfo can carry
tokens and never appear.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Origin = tuple[str, str, int]


class FetchError(Exception):
    """Base class; `message` is safe to show and log (no query strings, no userinfo)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FetchRefused(FetchError):
    """We will not fetch this URL: its scheme, its address or its size breaks a rule."""


class FetchFailed(FetchError):
    """The fetch was allowed but failed: no connection, an HTTP error, a bad redirect."""


class FetchTimedOut(FetchFailed):
    """The fetch did not finish within the time limit."""


@dataclass(frozen=True)
class FetchedContent:
    """A fetched body and its media type (from Content-Type, without parameters)."""

    data: bytes
    media_type: str


class GuardedFetcher:
    """GETs URLs under the rules above; safe to share between threads."""

    def __init__(
        self,
        *,
        allowed_origins: Iterable[str] = (),
        max_bytes: int,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_bytes < 1 or timeout <= 0:
            raise ValueError("max_bytes and timeout must be positive")
        self._allowed = frozenset(_origin(_parse(url)) for url in allowed_origins)
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._transport = transport

    def fetch(self, url: str) -> FetchedContent:
        """The body at url, after redirects; raises FetchRefused, FetchFailed or FetchTimedOut."""
        deadline = time.monotonic() + self._timeout
        current = _parse(url)
        transport = self._transport or httpx.HTTPTransport(retries=0)
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                response = self._send(transport, current, deadline)
                try:
                    if response.status_code not in _REDIRECT_STATUSES:
                        return self._read(current, response, deadline)
                    current = _redirect_target(current, response)
                finally:
                    response.close()
            raise FetchFailed(f"{safe_url(url)} redirected more than {MAX_REDIRECTS} times")
        finally:
            if self._transport is None:
                transport.close()

    def _send(
        self, transport: httpx.BaseTransport, url: httpx.URL, deadline: float
    ) -> httpx.Response:
        where = _display(url)
        if url.scheme not in _DEFAULT_PORTS:
            raise FetchRefused(f"refused {where}: only http and https URLs are fetched")
        if not url.raw_host:
            raise FetchRefused(f"refused {where}: the URL has no host")
        target, extensions = url, {}
        if _origin(url) not in self._allowed:
            address = self._checked_address(url, where)
            target = url.copy_with(host=str(address))
            if url.scheme == "https" and not _is_ip_literal(url.host):
                extensions["sni_hostname"] = url.raw_host.decode("ascii")
        left = _remaining(deadline, where)
        request = httpx.Request(
            "GET",
            target,
            headers={
                "Host": url.netloc.decode("ascii").rpartition("@")[2],
                "Accept": "*/*",
                "Accept-Encoding": "identity",
                "User-Agent": "PromptCanvas",
            },
            extensions={
                **extensions,
                "timeout": {"connect": left, "read": left, "write": left, "pool": left},
            },
        )
        try:
            response = transport.handle_request(request)
        except httpx.TimeoutException:
            raise FetchTimedOut(f"{where} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot fetch {where} ({type(exc).__name__})") from None
        response.request = request
        return response

    def _checked_address(self, url: httpx.URL, where: str) -> IPAddress:
        host = url.raw_host.decode("ascii")
        port = url.port or _DEFAULT_PORTS[url.scheme]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise FetchFailed(f"cannot resolve the host of {where}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
        if not addresses:
            raise FetchFailed(f"cannot resolve the host of {where}")
        # Every answer must pass: the connection could go to any of them.
        for address in addresses:
            if not is_public(address):
                raise FetchRefused(f"refused {where}: it resolves to a non-public address")
        return addresses[0]

    def _read(self, url: httpx.URL, response: httpx.Response, deadline: float) -> FetchedContent:
        where = _display(url)
        if not 200 <= response.status_code < 300:
            raise FetchFailed(f"{where} answered HTTP {response.status_code}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise FetchRefused(f"refused {where}: larger than {self._max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise FetchRefused(f"refused {where}: larger than {self._max_bytes} bytes")
                _remaining(deadline, where)
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise FetchTimedOut(f"{where} did not send its body in time") from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"cannot read {where} ({type(exc).__name__})") from None
        content_type = response.headers.get("content-type", "")
        media_type = content_type.partition(";")[0].strip().lower()
        return FetchedContent(b"".join(chunks), media_type or "application/octet-stream")


def is_public(address: IPAddress) -> bool:
    """Whether a connection to address stays outside every private and special network."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    if address in _METADATA:
        return False
    special = (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )
    # is_global also rules out shared (100.64.0.0/10) and other special-purpose ranges.
    return address.is_global and not special


def safe_url(url: str) -> str:
    """scheme://host:port/path of url, for messages; never its query or userinfo."""
    try:
        return _display(httpx.URL(url))
    except (httpx.InvalidURL, TypeError, UnicodeError):
        return "<a URL that does not parse>"


def _display(url: httpx.URL) -> str:
    host = url.raw_host.decode("ascii", "replace")
    if ":" in host:
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{host}{port}{url.path}"


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError, UnicodeError):
        raise FetchRefused(f"refused {safe_url(url)}: not a valid URL") from None


def _origin(url: httpx.URL) -> Origin:
    scheme = url.scheme.lower()
    host = url.raw_host.decode("ascii", "replace").lower()
    return scheme, host, url.port or _DEFAULT_PORTS.get(scheme, 0)


def _redirect_target(url: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise FetchFailed(f"{_display(url)} redirected without a Location")
    try:
        return url.join(location)
    except (httpx.InvalidURL, UnicodeError):
        raise FetchFailed(f"{_display(url)} redirected to a URL that does not parse") from None


def _remaining(deadline: float, where: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchTimedOut(f"fetching {where} took too long")
    return left


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
