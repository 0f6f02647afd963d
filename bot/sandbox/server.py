"""The HTTP side of the emulator: Bot API requests at /bot<token>/<method>, the control API at
/sandbox/<action>, background tasks (poll closing, webhook delivery), and `Sandbox`, the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox import control
from bot.sandbox.api import HANDLERS, Encoded
from bot.sandbox.client import SandboxClient
from bot.sandbox.errors import ApiError, bad_request, forbidden, too_many_requests
from bot.sandbox.limits import FLOOD_METHODS, FaultRule
from bot.sandbox.models import CallRecord, Upload
from bot.sandbox.spec import canonical_methods, decode_param, method_params, required_params
from bot.sandbox.webhook import deliver_forever
from bot.sandbox.world import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, World

LOG = logging.getLogger(__name__)
WORLD_KEY = web.AppKey("world", World)
_EXTRA_PARAMS = {
    "correct_option_id": ["Integer"],
    "reply_to_message_id": ["Integer"],
    "allow_sending_without_reply": ["Boolean"],
}
_EMPTY_MESSAGES = {
    "text": "message text is empty",
    "message_id": "message identifier is not specified",
}


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json_response(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def _error_response(err: ApiError) -> web.Response:
    return _json_response(err.code, dumps(err.to_json()))


async def _read_raw(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return raw
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise bad_request("request body must be a JSON object")
        raw.update(body)
        return raw
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            raw[key] = Upload(value.filename, value.content_type, value.file.read())
        else:
            raw[key] = value
    return raw


def decode(method: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Decode parameters by their spec types and resolve attach://name file references."""
    types = method_params(method)
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value.startswith("attach://"):
            value = raw.get(value[len("attach://") :], value)
        if isinstance(value, Upload):
            params[key] = value
            continue
        kinds = types.get(key) or _EXTRA_PARAMS.get(key)
        params[key] = decode_param(key, kinds, value) if kinds else value
    for name in required_params(method):
        value = params.get(name)
        if value is None or value == "":
            raise bad_request(_EMPTY_MESSAGES.get(name, f"{name} is empty"))
    return params


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"upload": v.filename, "size": len(v.data), "content_type": v.content_type}
        if isinstance(v, Upload)
        else v
        for key, v in params.items()
    }


class ApiServer:
    """Serves one World over HTTP."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def handle_api(self, request: web.Request) -> web.Response:
        world = self.world
        asked = request.match_info["method"]
        method = canonical_methods().get(asked.lower())
        early = None
        if request.match_info["token"] != world.token:
            early = ApiError(401, "Unauthorized")
        elif method is None:
            early = ApiError(404, "Not Found")
        elif method not in HANDLERS:
            early = ApiError(501, f"Not Implemented: the sandbox does not emulate {method}")
        if early is not None or method is None:
            refusal = early or ApiError(404, "Not Found")
            self._log(method or asked, {}, None, refusal)
            return _error_response(refusal)
        world.tick()
        params: dict[str, Any] = {}
        try:
            params = decode(method, await _read_raw(request))
            await self._before(method, params)
            result = await HANDLERS[method](world, params)
        except ApiError as err:
            self._log(method, params, None, err)
            return _error_response(err)
        except ConnectionResetError:  # the client went away mid-request: not a sandbox bug
            LOG.debug("client disconnected during %s", method)
            return web.Response(status=499)  # nginx's "client closed request"; nobody reads it
        except Exception as exc:  # a sandbox bug: answer like Telegram's 500, keep the trace
            LOG.exception("sandbox failed on %s", method)
            bug = ApiError(500, f"Internal Server Error: sandbox bug: {exc!r}")
            self._log(method, params, None, bug)
            return _error_response(bug)
        if method in FLOOD_METHODS:
            chat_id, is_group = self._flood_target(params)
            world.flood.record(chat_id, is_group, world.now())
        if isinstance(result, Encoded):
            self._log(method, params, result.value, None)
            return _json_response(200, b'{"ok":true,"result":' + result.body + b"}")
        self._log(method, params, result, None)
        return _json_response(200, dumps({"ok": True, "result": result}))

    def _flood_target(self, params: dict[str, Any]) -> tuple[int | None, bool]:
        raw = params.get("chat_id")
        chat_id = self.world.resolve_chat_id(raw) if isinstance(raw, int | str) else None
        chat = self.world.chats.get(chat_id) if chat_id is not None else None
        return chat_id, chat is not None and chat.type != "private"

    async def _before(self, method: str, params: dict[str, Any]) -> None:
        """Injected faults first, then flood limits."""
        world = self.world
        raw = params.get("chat_id")
        resolved = world.resolve_chat_id(raw) if isinstance(raw, int | str) else None
        rule = world.faults.take(method, (raw, resolved))
        if rule is not None:
            await self._fault(rule, resolved)
        if method in FLOOD_METHODS:
            chat_id, is_group = self._flood_target(params)
            wait = world.flood.retry_after(chat_id, is_group, world.now())
            if wait is not None:
                raise too_many_requests(wait)

    async def _fault(self, rule: FaultRule, chat_id: int | None) -> None:
        if rule.kind == "429":
            raise too_many_requests(rule.retry_after)
        if rule.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if rule.kind == "403":
            chat = self.world.chats.get(chat_id) if chat_id is not None else None
            if chat is not None and chat.type == "private":
                raise forbidden("bot was blocked by the user")
            raise forbidden(f"bot was kicked from the {chat.label if chat else 'channel chat'}")
        await asyncio.sleep(rule.hold_seconds())

    def _log(self, method: str, params: dict[str, Any], result: Any, err: ApiError | None) -> None:
        self.world.call_log.append(
            CallRecord(
                method,
                _loggable(params),
                err is None,
                result,
                err.code if err else None,
                err.description if err else None,
                self.world.now(),
            )
        )


def build_app(world: World) -> web.Application:
    """The aiohttp application serving `world` (Bot API + control API)."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[WORLD_KEY] = world
    api = ApiServer(world)
    app.router.add_route("*", "/bot{token}/{method}", api.handle_api)
    app.router.add_route("*", "/sandbox/{action}", control.handler(world))
    return app


async def _tick_forever(world: World, period: float = 0.2) -> None:
    while True:
        await asyncio.sleep(period)
        world.tick()


class Sandbox:
    """A running emulator on loopback; use as `async with Sandbox() as sandbox:`."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        host: str = "127.0.0.1",
        port: int = 0,
        world: World | None = None,
    ) -> None:
        self.world = world or World(token, bot_username)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._client: SandboxClient | None = None

    @property
    def url(self) -> str:
        """http://host:port of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What goes into PTB's base_url / the bot's api_url (the token is appended)."""
        return f"{self.url}/bot"

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def client(self) -> SandboxClient:
        """A control-API client bound to this sandbox (closed with it)."""
        if self._client is None:
            self._client = SandboxClient(self.url)
        return self._client

    async def start(self) -> Sandbox:
        self._runner = web.AppRunner(build_app(self.world), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        self._tasks = [
            asyncio.create_task(_tick_forever(self.world)),
            asyncio.create_task(deliver_forever(self.world, self._session)),
        ]
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
