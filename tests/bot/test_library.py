"""The library without a restart: /reload and SIGHUP read content/ again (each mistake with
its file and field); /delarticle archives an article; the address checks of every link."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore
import pytest

from bot.app import _reload_on_sighup
from bot.articles import fetch
from bot.articles.view import summary_payload
from bot.config import SHIPPED_CONTENT_DIR
from bot.sandbox import Sandbox
from tests.cast import ADMIN, READER
from tests.harness import BotHarness, bot_harness, wait_for

SEED = "moscow-plant-reboot"
NEW = """id = "new-one"
title = "A new article"
language = "en"
body = "The plant opens a second line. Workers are hired from next month on."
"""


def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(SHIPPED_CONTENT_DIR / f"{SEED}.toml", folder)
    return folder


def bot_with(sandbox: Sandbox, tmp_path: Path, folder: Path):  # type: ignore[no-untyped-def]
    admins = f'admins = [{ADMIN}]\nchannels = ["@plantnews"]\ncontent_dir = "{folder}"\n'
    return bot_harness(sandbox, tmp_path, bot=admins)


async def test_reload_reads_new_files_and_names_each_mistake(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    folder = content(tmp_path)
    async with bot_with(sandbox, tmp_path, folder) as bot:
        (folder / "new.toml").write_text(NEW, encoding="utf-8")
        (folder / "broken.toml").write_text(NEW.replace('"new-one"', '"Bad Id"'), "utf-8")
        (folder / "clash.toml").write_text(NEW.replace('"new-one"', '"a-1"'), "utf-8")
        (reloaded,) = await bot.say(ADMIN, "/reload")
        assert "Content reloaded: 2 articles." in reloaded["text"]
        assert f"{folder / 'broken.toml'}: id: use 1-40 of a-z" in reloaded["text"]
        assert f"{folder / 'clash.toml'}: id: ids a-<number> are kept" in reloaded["text"]
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "new-one — A new article" in listing["text"]
        (folder / "new.toml").unlink()
        (reloaded,) = await bot.say(ADMIN, "/reload")
        assert "Content reloaded: 1 article." in reloaded["text"]
        (refused,) = await bot.say(READER, "/reload")
        assert "only the bot's admins" in refused["text"]


async def test_sighup_reloads_the_content(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = content(tmp_path)
    async with bot_with(sandbox, tmp_path, folder) as bot:
        _reload_on_sighup(bot.application)
        try:
            (folder / "new.toml").write_text(NEW, encoding="utf-8")
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(
                lambda: bot.services.library.get("new-one") is not None, 10, "the reload"
            )
        finally:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)


async def test_delarticle_archives_an_article(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = content(tmp_path)
    async with bot_with(sandbox, tmp_path, folder) as bot:
        (archived,) = await bot.say(ADMIN, f"/delarticle {SEED}")
        assert archived["text"] == f"Article {SEED} is archived: /articles no longer lists it."
        (listing,) = await bot.say(ADMIN, "/articles")
        assert SEED not in listing["text"]
        (refused,) = await bot.say(ADMIN, f"/post {SEED} @plantnews")
        assert f"There is no article {SEED}" in refused["text"]
        await bot.say(ADMIN, "/reload")  # the library is rebuilt: still readable
        await summaries_still_work(bot)
    async with bot_with(sandbox, tmp_path, folder) as bot:  # archived across restarts
        (listing,) = await bot.say(ADMIN, "/articles")
        assert SEED not in listing["text"]
        await summaries_still_work(bot)


async def summaries_still_work(bot: BotHarness) -> None:
    """The summary button of the posts already out, and /summary, still answer."""
    for command in (f"/start {summary_payload(SEED)}", f"/summary {SEED}"):
        (summary,) = await bot.say(READER, command)
        assert summary["text"].startswith("Moscow"), command


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "240.0.0.1", "224.0.0.1",
     "0.0.0.0", "::1", "fe80::1", "::ffff:127.0.0.1", "fc00::1",
     "100.64.0.1",  # shared address space (carrier-grade NAT)
     "2002:7f00:1::1", "2002:c0a8:101::1",  # 6to4 of 127.0.0.1 and of 192.168.1.1
     "2001:0:4136:e378:8000:63bf:3fff:fdd2"],  # Teredo
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not fetch.is_public(ipaddress.ip_address(address))


def test_public_addresses_pass() -> None:
    assert fetch.is_public(ipaddress.ip_address("93.184.216.34"))
    assert fetch.is_public(ipaddress.ip_address("2606:2800:220:1::1"))


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(fetch.FetchError) as refused:
        await fetch.checked_address("localhost", 8080, allow_private=False)
    assert "private or local address" in refused.value.render("en")


PUBLIC = "93.184.216.34"


@dataclass
class Network:
    answers: dict[str, list[str]]  # host -> its address at each lookup (the last one again)
    connected: list[str]  # the hosts connections were opened to


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    """A stub DNS and a stub network: a connection to PUBLIC reaches the local test site
    (127.0.0.1), every other one fails."""
    real_lookup = socket.getaddrinfo
    real_connect = httpcore.AnyIOBackend.connect_tcp
    net = Network({}, [])

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        found = net.answers.get(str(host))
        if found:
            host = found.pop(0) if len(found) > 1 else found[0]
        return real_lookup(host, port, *args, **kwargs)

    async def connect(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        net.connected.append(host)
        if host != PUBLIC:
            raise httpcore.ConnectError(f"no route to {host} in the tests")
        return await real_connect(self, "127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect)
    return net


@pytest.fixture
async def away() -> AsyncIterator[int]:
    """A local site whose /away redirects to another host (inside.test), the port."""
    from aiohttp import web

    from tests.bot.test_compose import _app

    app = _app()

    async def handle(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://inside.test:{request.url.port}/pages/en")

    app.router.add_get("/away", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_a_name_that_answers_inside_the_second_time_is_not_followed(
    network: Network,
) -> None:
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1; the
    connection goes to the address that was checked, never to the name again."""
    network.answers["rebind.test"] = [PUBLIC, "127.0.0.1"]
    with pytest.raises(fetch.FetchError):
        await fetch.fetch("http://rebind.test:9/x", allow_private=False)
    assert network.connected == [PUBLIC]


async def test_every_redirect_hop_is_checked(network: Network, away: int) -> None:
    """A public page that redirects to a name inside is refused at the hop that leads there."""
    network.answers["public.test"] = [PUBLIC]
    network.answers["inside.test"] = ["127.0.0.1"]
    page = await fetch.fetch(f"http://public.test:{away}/pages/en", allow_private=False)
    assert b"Moscow van plant" in page.data
    with pytest.raises(fetch.FetchError) as refused:
        await fetch.fetch(f"http://public.test:{away}/away", allow_private=False)
    assert refused.value.render("en") == (
        f"http://inside.test:{away}/pages/en leads to a private or local address "
        "(127.0.0.1): such links are refused ([fetch] allow_private)."
    )
    assert network.connected == [PUBLIC, PUBLIC]
