"""`python -m bot.sandbox --port N --token T`: run the emulator standalone until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.server import Sandbox
from bot.sandbox.world import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN


async def serve(host: str, port: int, token: str, bot_username: str) -> None:
    async with Sandbox(token=token, bot_username=bot_username, host=host, port=port) as sandbox:
        print(f"api_url = {sandbox.api_url}", flush=True)
        print(f"control = {sandbox.url}/sandbox/<action>", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--bot-username", default=DEFAULT_BOT_USERNAME)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.token, args.bot_username))


if __name__ == "__main__":
    main()
