"""A Bot API emulator on loopback (aiohttp) with simulated subscribers, for tests and demos.

    async with Sandbox() as sandbox:
        bot = telegram.Bot(sandbox.token, base_url=sandbox.api_url)
        sandbox.world.add_user(1, "Ann"); sandbox.world.send(1, "/start")

Imports nothing from the rest of `bot/`.
"""

from __future__ import annotations

from bot.sandbox.client import SandboxClient, SandboxError
from bot.sandbox.errors import ApiError, ControlError
from bot.sandbox.server import Sandbox
from bot.sandbox.world import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, World

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "ApiError",
    "ControlError",
    "Sandbox",
    "SandboxClient",
    "SandboxError",
    "World",
]
