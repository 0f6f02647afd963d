"""Downloading a link sent to /newarticle: a page (HTML only) or its lead image.

Within limits (``Limits``: 10 s in all, 5 MB, read as a stream and dropped at the limit,
5 redirects), and never from a loopback, private, link-local, reserved or multicast address
unless ``[fetch] allow_private``: every hop's host is resolved first and each of its
addresses checked, so a public name that points inside is refused too. What goes wrong is a
``FetchError`` whose Problem the admin reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bot.texts import N_, Problem, Refusal


class FetchError(Refusal):
    """A link that could not be read, and why."""


NOT_HTTP = N_("“{url}” is not an http:// or https:// link.")
UNKNOWN_HOST = N_("Cannot find the server of {url}.")
REFUSED = N_(
    "{url} leads to a private or local address ({address}): such links are refused "
    "([fetch] allow_private)."
)
TIMEOUT = N_("{url} did not answer within {seconds} seconds.")
TOO_BIG = N_("{url} is larger than {megabytes} MB.")
NOT_FOUND = N_("{url} answered {status}: there is no page to read.")
NOT_HTML = N_("{url} is not a web page (it is {kind}).")
NOT_IMAGE = N_("{url} is not an image (it is {kind}).")
TOO_MANY_REDIRECTS = N_("{url} redirects more than {count} times.")
UNREACHABLE = N_("Cannot download {url}: {reason}")


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    redirects: int = 5


LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Download:
    url: str  # after redirects
    content_type: str
    data: bytes


def _fail(message: str, **params: object) -> FetchError:
    return FetchError(Problem(message, params))


async def fetch(
    url: str, *, allow_private: bool, accept: str = "text/html", limits: Limits | None = None
) -> Download:
    """Download ``url`` (following redirects); its type must start with ``accept``."""
    limits = limits or LIMITS
    try:
        async with asyncio.timeout(limits.seconds):
            return await _fetch(url, allow_private, accept, limits)
    except TimeoutError:
        raise _fail(TIMEOUT, url=url, seconds=f"{limits.seconds:g}") from None


async def _fetch(url: str, allow_private: bool, accept: str, limits: Limits) -> Download:
    timeout = httpx.Timeout(limits.seconds)
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as http:
        current = url
        for _hop in range(limits.redirects + 1):
            await check_address(current, allow_private=allow_private)
            try:
                async with http.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    return await _read(current, response, accept, limits)
            except httpx.TimeoutException:
                raise _fail(TIMEOUT, url=url, seconds=f"{limits.seconds:g}") from None
            except httpx.HTTPError as exc:
                raise _fail(UNREACHABLE, url=url, reason=str(exc) or type(exc).__name__) from None
    raise _fail(TOO_MANY_REDIRECTS, url=url, count=limits.redirects)


async def _read(url: str, response: httpx.Response, accept: str, limits: Limits) -> Download:
    if response.status_code >= 400:
        raise _fail(NOT_FOUND, url=url, status=response.status_code)
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not kind.startswith(accept):
        message = NOT_HTML if accept == "text/html" else NOT_IMAGE
        raise _fail(message, url=url, kind=kind or "?")
    length = response.headers.get("content-length", "")
    if length.isdecimal() and int(length) > limits.max_bytes:
        raise _fail(TOO_BIG, url=url, megabytes=limits.max_bytes // (1024 * 1024) or 1)
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limits.max_bytes:  # stop reading: the rest is never downloaded
            raise _fail(TOO_BIG, url=url, megabytes=limits.max_bytes // (1024 * 1024) or 1)
    return Download(url, kind, bytes(data))


async def check_address(url: str, *, allow_private: bool) -> None:
    """Refuse a link that is not http(s), or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(NOT_HTTP, url=url)
    if allow_private:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise _fail(UNKNOWN_HOST, url=url) from None
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not is_public(address):
            raise _fail(REFUSED, url=url, address=str(address))


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for loopback, private, link-local, reserved, multicast and unspecified
    addresses (an IPv4 address mapped into IPv6 counts as itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
