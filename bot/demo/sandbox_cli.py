"""``pollbot sandbox ...``: poke a running sandbox (e.g. ``pollbot demo --keep``) by hand.

Say something as a user, vote as a user, list polls, show a chat. The sandbox's address
comes from ``--url``, ``POLLBOT_SANDBOX_URL`` or the file ``pollbot demo --keep`` writes.
``pollbot`` builds this parser for every command, so the sandbox is imported only when
one of these actions runs: ``pollbot run`` never loads it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sandbox import SandboxClient

URL_ENV = "POLLBOT_SANDBOX_URL"
DEFAULT_URL_FILE = Path("pollbot-demo") / "sandbox.url"


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("sandbox", help="talk to a running sandbox (pollbot demo --keep)")
    parser.add_argument(
        "--url", help=f"sandbox address (default: ${URL_ENV} or {DEFAULT_URL_FILE})"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    say = actions.add_parser("say", help="a user writes to the bot (or in --chat)")
    say.add_argument("user", type=int)
    say.add_argument("text", nargs="+")
    say.add_argument("--chat", type=int)
    vote = actions.add_parser("vote", help="a user votes (option numbers from 1; none: retract)")
    vote.add_argument("user", type=int)
    vote.add_argument("poll")
    vote.add_argument("options", type=int, nargs="*")
    show = actions.add_parser("show", help="a chat's messages (a user id: their private chat)")
    show.add_argument("chat")
    actions.add_parser("polls", help="every poll with its counts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.sandbox import SandboxError

    url = args.url or os.environ.get(URL_ENV) or _url_from_file()
    if not url:
        print(
            "pollbot sandbox: no sandbox address: start `pollbot demo --keep`, or pass --url",
            file=sys.stderr,
        )
        return 2
    try:
        print(asyncio.run(_act(url, args)))
    except SandboxError as exc:
        print(f"pollbot sandbox: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"pollbot sandbox: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    return 0


def _url_from_file() -> str | None:
    return DEFAULT_URL_FILE.read_text().strip() if DEFAULT_URL_FILE.is_file() else None


async def _act(url: str, args: argparse.Namespace) -> str:
    from bot.sandbox import SandboxClient

    async with SandboxClient(url) as client:
        if args.action == "say":
            await client.send(args.user, " ".join(args.text), args.chat)
            await asyncio.sleep(1.5)  # give the bot a moment to answer
            return await _show(client, str(args.chat or args.user), last=4)
        if args.action == "vote":
            result = await client.vote(args.user, args.poll, [n - 1 for n in args.options])
            return _poll_line(result["poll"])
        if args.action == "polls":
            return "\n".join(_poll_line(poll) for poll in await client.polls()) or "no polls"
        return await _show(client, args.chat)


async def _show(client: SandboxClient, chat: str, last: int = 0) -> str:
    from bot.demo.transcript import WIDTH

    data = await client.chat(int(chat) if chat.lstrip("-").isdecimal() else chat)
    lines = []
    for message in data["messages"][-last:]:
        who = (
            "bot"
            if message["sandbox"]["from_bot"]
            else str((message.get("from") or {}).get("first_name", "?"))
        )
        body = message.get("text") or message.get("caption") or _other(message)
        lines.append(f"[{who}] {body}"[: WIDTH * 6])
    return "\n".join(lines) or "(no messages)"


def _other(message: dict[str, Any]) -> str:
    if "poll" in message:
        return "📊 " + str(message["poll"]["question"])
    return "📎 " + json.dumps(message, ensure_ascii=False)[:80]


def _poll_line(poll: dict[str, Any]) -> str:
    counts = ", ".join(
        f"{i}. {o['text']}: {o['voter_count']}" for i, o in enumerate(poll["options"], 1)
    )
    return f"{poll['id']}  {poll['question']}  [{counts}]"
