"""One HTTP exchange with a calendar server, with the limits every provider needs.

The client is ``app.net.outbound_client`` (no private addresses unless allowed, connected to the
address it checked, no redirects of its own); here we follow a few redirects ourselves (each hop
goes through that client's checks again), read at most ``max_bytes`` of a body, and turn every
transport failure into a ``CalendarError`` whose message names the server and what went wrong.
Passwords and feed URLs never appear in these messages: a feed's URL is a secret (Google's
private address), so only its host is named.
"""

from __future__ import annotations

import ssl
from urllib.parse import urljoin, urlsplit

import httpx

from app.calendars.providers import CalendarError, NotACalendar, Unreachable
from app.net import OutboundRefused

MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)


class Refused(CalendarError):
    """The address is not allowed (a private network address): retrying will not help."""

    retry = False


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the server"
    except ValueError:
        return "the server"


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    auth: httpx.Auth | None = None,
    max_bytes: int,
) -> tuple[httpx.Response, bytes, str]:
    """(response, body, final URL); the body is read whole, up to ``max_bytes``."""
    for _hop in range(MAX_REDIRECTS + 1):
        response, body = await _exchange(http, method, url, headers, content, auth, max_bytes)
        location = response.headers.get("location")
        if response.status_code not in REDIRECTS or not location:
            return response, body, url
        url = urljoin(url, location)
        if response.status_code == 303:
            method, content = "GET", None
    raise NotACalendar(f"{host_of(url)} redirected more than {MAX_REDIRECTS} times")


async def _exchange(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str] | None,
    content: bytes | None,
    auth: httpx.Auth | None,
    max_bytes: int,
) -> tuple[httpx.Response, bytes]:
    host = host_of(url)
    try:
        async with http.stream(
            method, url, headers=headers, content=content, auth=auth or httpx.USE_CLIENT_DEFAULT
        ) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise BadSize(host, max_bytes)
                chunks.append(chunk)
            return response, b"".join(chunks)
    except CalendarError:
        raise
    except OutboundRefused as exc:
        raise Refused(str(exc)) from None
    except httpx.TimeoutException:
        raise Unreachable(f"{host} did not answer in time") from None
    except httpx.ConnectError as exc:
        raise Unreachable(_connect_message(host, exc)) from None
    except (httpx.HTTPError, ssl.SSLError) as exc:
        raise Unreachable(f"could not talk to {host}: {_short(exc)}") from None


class BadSize(CalendarError):
    def __init__(self, host: str, max_bytes: int) -> None:
        super().__init__(f"{host} sent more than {max_bytes:,} bytes: refused")


def _connect_message(host: str, exc: Exception) -> str:
    text = _short(exc)
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return f"TLS error with {host}: {text}"
    if "refused" in lowered or "all connection attempts failed" in lowered:
        return f"{host} refused the connection (is the server running?)"
    if "name or service" in lowered or "resolve" in lowered or "nodename" in lowered:
        return f"{host} could not be found (DNS)"
    return f"could not connect to {host}: {text}"


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
