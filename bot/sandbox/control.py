"""The control API: JSON over HTTP at /sandbox/<action>, one action per World operation.

POST a JSON object of keyword arguments (GET query values are JSON-decoded when they
parse). Answers are {"ok": true, "result": ...} or {"ok": false, "description": ...}.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.errors import ControlError
from bot.sandbox.models import JSON
from bot.sandbox.world import World


def _file(world: World, file_id: str) -> JSON:
    blob = world.file(file_id)
    return {**blob.info(), "base64": base64.b64encode(blob.data or b"").decode()}


def _reset(world: World) -> JSON:
    world.reset()
    return {"reset": True}


def actions(world: World) -> dict[str, Callable[..., Any]]:
    """Action name -> the World operation it runs."""
    return {
        "add_user": world.add_user,
        "add_chat": world.add_chat,
        "send": world.send,
        "press": world.press,
        "vote": world.vote,
        "bulk_votes": world.bulk_votes,
        "add_option": world.add_option,
        "bot_added": world.bot_added,
        "bot_removed": world.bot_removed,
        "raw": world.raw,
        "fault": world.fault,
        "clear_faults": world.clear_faults,
        "flood": world.flood_limits,
        "clock": world.clock,
        "webhook_timeout": world.webhook_timeout,
        "reset": lambda: _reset(world),
        "state": world.state,
        "chat": world.chat,
        "poll": world.poll,
        "polls": world.poll_list,
        "calls": world.calls,
        "callback_answers": world.callback_answers,
        "my_commands": world.my_commands,
        "pending": world.pending,
        "file": lambda file_id: _file(world, file_id),
    }


def _query_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


async def _kwargs(request: web.Request) -> dict[str, Any]:
    kwargs: dict[str, Any] = {key: _query_value(value) for key, value in request.query.items()}
    if request.can_read_body:
        body = await request.json()
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object of arguments")
        kwargs.update(body)
    return kwargs


def _answer(status: int, body: JSON) -> web.Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return web.Response(status=status, text=text, content_type="application/json")


def handler(world: World) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The aiohttp handler for /sandbox/{action}."""
    table = actions(world)

    async def handle(request: web.Request) -> web.Response:
        action = table.get(request.match_info["action"])
        if action is None:
            names = ", ".join(sorted(table))
            return _answer(404, {"ok": False, "description": f"unknown action; try {names}"})
        try:
            result = action(**await _kwargs(request))
        except ControlError as err:
            return _answer(err.code, {"ok": False, "description": err.description})
        except (TypeError, ValueError) as err:
            return _answer(400, {"ok": False, "description": str(err)})
        return _answer(200, {"ok": True, "result": result})

    return handle
