"""The control API over HTTP (SandboxClient) and the standalone `python -m bot.sandbox`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest
import telegram

from bot.sandbox import Sandbox, SandboxClient, SandboxError
from bot.sandbox.crowd import simulate_remote
from tests.sandbox.support import PNG

ROOT = Path(__file__).resolve().parents[2]


async def test_a_whole_conversation_over_http(sandbox: Sandbox, bot: telegram.Bot) -> None:
    client = sandbox.client
    await client.add_user(42, "Dana", language_code="de", username="dana")
    await client.add_chat(-1001111111111, "channel", title="Werk", username="werk", admins=[42])
    sent = await client.send(42, "/start campaign-1")
    assert sent["update"]["message"]["text"] == "/start campaign-1"
    [update] = await bot.get_updates()
    assert update.effective_user is not None and update.effective_user.language_code == "de"
    message = await bot.send_poll("@werk", "Welche Linie?", ["LKW", "E-Auto"])
    assert message.poll is not None
    voted = await client.vote(7, message.poll.id, [1])
    assert voted["changed"] and voted["poll"]["options"][1]["voter_count"] == 1
    poll = await client.poll(message.poll.id)
    assert poll["sandbox"]["votes"] == {"7": [1]}
    assert [p["id"] for p in await client.polls()] == [message.poll.id]
    chat = await client.chat(-1001111111111)
    assert chat["chat"]["bot_status"] == "administrator"
    assert chat["messages"][0]["poll"]["question"] == "Welche Linie?"
    assert [c["method"] for c in await client.calls("sendPoll")] == ["sendPoll"]
    assert await client.pending() == 2  # /start (unconfirmed) + the poll state
    photo = await bot.send_photo(42, PNG)
    assert (await client.file(photo.photo[-1].file_id))["data"] == PNG
    clock = await client.clock(advance=10)
    assert clock["offset"] == 10
    state = await client.state()
    assert state["bot"]["username"] == "pollbot_sandbox_bot" and len(state["chats"]) == 2


async def test_control_errors(sandbox: Sandbox, bot: telegram.Bot) -> None:
    client = sandbox.client
    with pytest.raises(SandboxError) as caught:
        await client.vote(1, "no-such-poll", [0])
    assert caught.value.status == 404
    with pytest.raises(SandboxError, match="unknown action"):
        await client.call("teleport")
    with pytest.raises(SandboxError, match="unexpected keyword"):
        await client.call("add_user", user_id=1, first_name="A", colour="red")


async def test_remote_crowd_votes_through_bulk_votes(sandbox: Sandbox, bot: telegram.Bot) -> None:
    await sandbox.client.add_chat(-1002222222222, "channel", title="Crowd")
    message = await bot.send_poll(-1002222222222, "Q?", ["a", "b", "c"])
    assert message.poll is not None
    report = await simulate_remote(sandbox.client, [message.poll.id], users=30, actions=100)
    poll = await sandbox.client.poll(message.poll.id)
    assert poll["total_voter_count"] == len(poll["sandbox"]["votes"]) > 0
    assert report.result["applied"] == report.votes + report.changes + report.retractions


async def test_standalone_server_prints_its_api_url() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--port",
        "0",
        "--token",
        "42:STANDALONE",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert line.startswith("api_url = http://127.0.0.1:")
        api_url = line.split(" = ", 1)[1].strip()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{api_url}42:STANDALONE/getMe") as response,
        ):
            body = await response.json()
        assert body["result"]["id"] == 42
        async with SandboxClient(api_url.removesuffix("/bot")) as client:
            assert (await client.state())["bot"]["id"] == 42
    finally:
        process.terminate()
        await process.wait()
