"""The guarded fetcher: what it refuses, what it lets through, and what its messages show."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from promptcanvas.adapters.http.fetch import (
    FetchedContent,
    FetchFailed,
    FetchRefused,
    FetchTimedOut,
    GuardedFetcher,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PUBLIC_IP = "93.184.216.34"


class Recorder:
    """A MockTransport handler that records requests and answers from a routing function."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer or (lambda _request: httpx.Response(200, content=PNG))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)


def fetcher(recorder: Recorder, **kwargs: Any) -> GuardedFetcher:
    kwargs.setdefault("max_bytes", 1024)
    kwargs.setdefault("timeout", 5.0)
    return GuardedFetcher(transport=httpx.MockTransport(recorder), **kwargs)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Fake DNS: names in the dict resolve to its addresses; IP literals resolve to themselves."""
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in table:
            return real(host, port, *args, **kwargs)
        if not table[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/a.png", "gopher://x/"])
def test_only_http_and_https_are_fetched(url: str) -> None:
    recorder = Recorder()
    with pytest.raises(FetchRefused, match="only http and https"):
        fetcher(recorder).fetch(url)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.png",
        "http://10.1.2.3/a.png",
        "http://192.168.1.10:8080/a.png",
        "http://172.16.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.png",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://[2002:7f00:1::]/a.png",  # 6to4 wrapping 127.0.0.1
        "http://100.64.0.1/a.png",  # shared address space (CGNAT)
        "http://0.0.0.0/a.png",
        "http://224.0.0.1/a.png",
        "http://240.0.0.1/a.png",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    recorder = Recorder()
    with pytest.raises(FetchRefused, match="non-public address"):
        fetcher(recorder).fetch(url)
    assert recorder.requests == []


def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    recorder = Recorder()
    with pytest.raises(FetchRefused, match="non-public address"):
        fetcher(recorder).fetch("http://localhost:8000/a.png")
    assert recorder.requests == []


def test_a_name_with_any_private_answer_is_refused(dns: dict[str, list[str]]) -> None:
    dns["mixed.example"] = [PUBLIC_IP, "10.0.0.7"]
    recorder = Recorder()
    with pytest.raises(FetchRefused):
        fetcher(recorder).fetch("https://mixed.example/a.png")
    assert recorder.requests == []


def test_a_public_name_is_fetched_from_the_checked_address(dns: dict[str, list[str]]) -> None:
    dns["cdn.example"] = [PUBLIC_IP]
    recorder = Recorder(
        lambda _r: httpx.Response(200, content=PNG, headers={"content-type": "image/png; q=1"})
    )
    got = fetcher(recorder).fetch("https://cdn.example/img/a.png?sig=abc")
    assert got == FetchedContent(PNG, "image/png")
    (request,) = recorder.requests
    # Connected to the address that was checked, so a second DNS answer cannot change it.
    assert request.url.host == PUBLIC_IP
    assert request.url.query == b"sig=abc"
    assert request.headers["host"] == "cdn.example"
    assert request.extensions["sni_hostname"] == "cdn.example"


def test_an_allowed_origin_may_be_local() -> None:
    recorder = Recorder()
    got = fetcher(recorder, allowed_origins=["http://127.0.0.1:8080/v1"]).fetch(
        "http://127.0.0.1:8080/files/a.png"
    )
    assert got.data == PNG
    assert [str(r.url) for r in recorder.requests] == ["http://127.0.0.1:8080/files/a.png"]


def test_an_allowed_origin_covers_only_its_own_port() -> None:
    recorder = Recorder()
    with pytest.raises(FetchRefused):
        fetcher(recorder, allowed_origins=["http://127.0.0.1:8080"]).fetch(
            "http://127.0.0.1:8081/a.png"
        )
    assert recorder.requests == []


def test_a_redirect_from_an_allowed_origin_to_a_private_address_is_refused() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://10.0.0.1/admin?token=s3cret"})

    recorder = Recorder(answer)
    with pytest.raises(FetchRefused) as caught:
        fetcher(recorder, allowed_origins=["http://127.0.0.1:8080"]).fetch(
            "http://127.0.0.1:8080/files/a.png"
        )
    assert len(recorder.requests) == 1
    assert "http://10.0.0.1/admin" in caught.value.message
    assert "s3cret" not in str(caught.value)


def test_redirects_are_followed_and_rechecked(dns: dict[str, list[str]]) -> None:
    dns["a.example"] = [PUBLIC_IP]
    dns["b.example"] = ["93.184.216.35"]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "a.example":
            return httpx.Response(301, headers={"location": "https://b.example/final.png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    recorder = Recorder(answer)
    assert fetcher(recorder).fetch("https://a.example/start").data == PNG
    assert [r.url.host for r in recorder.requests] == [PUBLIC_IP, "93.184.216.35"]


def test_too_many_redirects_fail(dns: dict[str, list[str]]) -> None:
    dns["loop.example"] = [PUBLIC_IP]
    recorder = Recorder(lambda r: httpx.Response(302, headers={"location": f"{r.url.path}x"}))
    with pytest.raises(FetchFailed, match="redirected more than 5 times"):
        fetcher(recorder).fetch("http://loop.example/a")
    assert len(recorder.requests) == 6


def test_a_declared_size_over_the_limit_is_refused(dns: dict[str, list[str]]) -> None:
    dns["big.example"] = [PUBLIC_IP]
    recorder = Recorder(lambda _r: httpx.Response(200, content=b"x" * 1025))
    with pytest.raises(FetchRefused, match="larger than 1024 bytes"):
        fetcher(recorder).fetch("http://big.example/a.png")


def test_a_streamed_body_is_cut_off_at_the_limit(dns: dict[str, list[str]]) -> None:
    dns["big.example"] = [PUBLIC_IP]
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100

    recorder = Recorder(lambda _r: httpx.Response(200, content=chunks()))
    with pytest.raises(FetchRefused, match="larger than 1024 bytes"):
        fetcher(recorder).fetch("http://big.example/a.png")
    assert len(sent) < 20  # stopped reading, did not drain the whole body


def test_exactly_the_limit_is_fine(dns: dict[str, list[str]]) -> None:
    dns["ok.example"] = [PUBLIC_IP]
    recorder = Recorder(lambda _r: httpx.Response(200, content=b"x" * 1024))
    assert len(fetcher(recorder).fetch("http://ok.example/a").data) == 1024


def test_a_body_slower_than_the_time_limit_times_out(dns: dict[str, list[str]]) -> None:
    dns["slow.example"] = [PUBLIC_IP]

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            time.sleep(0.1)
            yield b"x"

    recorder = Recorder(lambda _r: httpx.Response(200, content=chunks()))
    started = time.monotonic()
    with pytest.raises(FetchTimedOut):
        fetcher(recorder, timeout=0.25).fetch("http://slow.example/a")
    assert time.monotonic() - started < 0.8


def test_transport_errors_become_fetch_errors(dns: dict[str, list[str]]) -> None:
    dns["down.example"] = [PUBLIC_IP]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(FetchFailed, match="ConnectError"):
        fetcher(Recorder(refuse)).fetch("http://down.example/a")
    with pytest.raises(FetchTimedOut):
        fetcher(Recorder(stall)).fetch("http://down.example/a")


def test_messages_never_show_the_query_or_userinfo(dns: dict[str, list[str]]) -> None:
    dns["gone.example"] = [PUBLIC_IP]
    recorder = Recorder(lambda _r: httpx.Response(404))
    with pytest.raises(FetchFailed) as caught:
        fetcher(recorder).fetch("https://user:pw@gone.example/img.png?token=s3cret#frag")
    assert caught.value.message == "https://gone.example/img.png answered HTTP 404"
    with pytest.raises(FetchRefused) as refused:
        fetcher(recorder).fetch("http://10.0.0.1/img.png?token=s3cret")
    assert "s3cret" not in str(refused.value)


def test_an_unresolvable_host_fails(dns: dict[str, list[str]]) -> None:
    dns["nowhere.example"] = []
    with pytest.raises(FetchFailed, match="cannot resolve"):
        fetcher(Recorder()).fetch("http://nowhere.example/a")
