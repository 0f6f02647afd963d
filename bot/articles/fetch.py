"""Downloading a link sent to /newarticle: a page (HTML only) or its lead image.

Within limits (``Limits``: 10 s for the page and its image together, 5 MB, read as a stream
and dropped at the limit, 5 redirects), and never from a loopback, private, link-local,
shared, reserved or multicast address unless ``[fetch] allow_private``. The check is made
where the connection is opened (``PinnedBackend``): the host is resolved once, every address
is checked, and the connection goes to the checked address (TLS still names the host), so a
name that answers differently the second time (DNS rebinding) cannot lead inside, on any
redirect hop. What goes wrong is a ``FetchError`` whose Problem the admin reads.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.texts import N_, Problem, Refusal
from bot.validation import parse_number


class FetchError(Refusal):
    """A link that could not be read, and why."""


NOT_HTTP = N_("“{url}” is not an http:// or https:// link.")
BAD_LINK = N_("“{url}” is not a valid link: check its host and port.")
USERINFO = N_("“{url}” holds a user name or password: such links are refused.")
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

PAGE = ("text/html",)
IMAGES = ("image/jpeg", "image/png", "image/webp")  # what Telegram takes as a photo

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[Address]]]
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


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
    charset: str | None = None  # as the response's Content-Type declares it


def _fail(message: str, **params: object) -> FetchError:
    return FetchError(Problem(message, params))


def deadline(limits: Limits | None = None) -> float:
    """When a download that starts now must be done (the event loop's clock)."""
    return asyncio.get_running_loop().time() + (limits or LIMITS).seconds


async def fetch(
    url: str,
    *,
    allow_private: bool,
    accept: Iterable[str] = PAGE,
    limits: Limits | None = None,
    until: float | None = None,
) -> Download:
    """Download ``url`` (following redirects); its type must be one of ``accept``. ``until``
    (from ``deadline``) shares one time budget between several downloads."""
    limits = limits or LIMITS
    try:
        async with asyncio.timeout_at(until if until is not None else deadline(limits)):
            return await _fetch(url, allow_private, tuple(accept), limits)
    except TimeoutError:
        raise _fail(TIMEOUT, url=url, seconds=f"{limits.seconds:g}") from None


async def _fetch(
    url: str, allow_private: bool, accept: tuple[str, ...], limits: Limits
) -> Download:
    timeout = httpx.Timeout(limits.seconds)
    transport = PinnedTransport(allow_private)
    async with httpx.AsyncClient(
        follow_redirects=False, timeout=timeout, trust_env=False, transport=transport
    ) as http:
        current = url
        for _hop in range(limits.redirects + 1):
            check_link(current)
            try:
                async with http.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    return await _read(current, response, accept, limits)
            except FetchError as exc:  # the address check, made as the connection opens
                raise _fail(
                    exc.problem.message, **{**exc.problem.params, "url": current}
                ) from None
            except httpx.TimeoutException:
                raise _fail(TIMEOUT, url=url, seconds=f"{limits.seconds:g}") from None
            except (httpx.InvalidURL, ValueError):
                raise _fail(BAD_LINK, url=current) from None
            except httpx.HTTPError as exc:
                raise _fail(UNREACHABLE, url=url, reason=str(exc) or type(exc).__name__) from None
    raise _fail(TOO_MANY_REDIRECTS, url=url, count=limits.redirects)


async def _read(
    url: str, response: httpx.Response, accept: tuple[str, ...], limits: Limits
) -> Download:
    if response.status_code >= 400:
        raise _fail(NOT_FOUND, url=url, status=response.status_code)
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in accept:
        raise _fail(NOT_HTML if accept == PAGE else NOT_IMAGE, url=url, kind=kind or "?")
    length = response.headers.get("content-length", "")
    declared = parse_number(length)  # ASCII digits, 64 bits: anything else is not a length
    if declared is not None and declared > limits.max_bytes:
        raise _fail(TOO_BIG, url=url, megabytes=limits.max_bytes // (1024 * 1024) or 1)
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limits.max_bytes:  # stop reading: the rest is never downloaded
            raise _fail(TOO_BIG, url=url, megabytes=limits.max_bytes // (1024 * 1024) or 1)
    return Download(url, kind, bytes(data), response.charset_encoding)


def decoded(page: Download) -> str | bytes:
    """The page's text in the charset its response or its markup declares; the bytes when
    neither does (trafilatura then detects the encoding)."""
    declared = _CHARSET.search(page.data[:4096])
    for name in (page.charset, declared.group(1).decode("ascii") if declared else None):
        if name:
            try:
                return page.data.decode(name)
            except (LookupError, UnicodeDecodeError):
                continue
    return page.data


def check_link(url: str) -> None:
    """Refuse a link that is not http(s), has no valid host and port, or holds a user name
    or password."""
    try:
        parts = urlsplit(url)
        _port = parts.port
    except ValueError:
        raise _fail(BAD_LINK, url=url) from None
    if parts.scheme not in ("http", "https"):
        raise _fail(NOT_HTTP, url=url)
    if not parts.hostname:
        raise _fail(BAD_LINK, url=url)
    if parts.username is not None or parts.password is not None:
        raise _fail(USERINFO, url=url)


async def system_resolver(host: str, port: int) -> list[Address]:
    """Every address of ``host`` (the system's resolver)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(sockaddr[0]).split("%")[0]) for *_rest, sockaddr in found]


async def checked_address(
    host: str, port: int, *, allow_private: bool, resolve: Resolver | None = None
) -> Address:
    """The address to connect to for ``host``: resolved once, every address checked."""
    try:
        addresses = await (resolve or system_resolver)(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise _fail(UNKNOWN_HOST, url=host)
    for address in addresses:
        if not allow_private and not is_public(address):
            raise _fail(REFUSED, url=host, address=str(address))
    return addresses[0]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens each connection to the address that was checked, never to the name again."""

    def __init__(self, allow_private: bool, resolve: Resolver | None = None) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolve = resolve

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await checked_address(
            host, port, allow_private=self._allow_private, resolve=self._resolve
        )
        return await self._inner.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a ``PinnedBackend`` (TLS keeps the link's host name)."""

    def __init__(self, allow_private: bool, resolve: Resolver | None = None) -> None:
        super().__init__(trust_env=False)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=PinnedBackend(allow_private, resolve)
        )


def is_public(address: Address) -> bool:
    """True only for a global unicast address: not loopback, private, shared (100.64/10),
    link-local, reserved, multicast or unspecified; an IPv4 address inside IPv6 (mapped,
    6to4, Teredo) counts as itself."""
    inner = _embedded(address)
    if inner is not None and not is_public(inner):
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return True  # judged as the IPv4 address it maps
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _embedded(address: Address) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    return address.teredo[1] if address.teredo is not None else None
