"""The library without a restart: /reload and SIGHUP read content/ again (each mistake with
its file and field); /delarticle archives an article; the address checks of every link."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import signal
from pathlib import Path

import pytest

from bot.app import _reload_on_sighup
from bot.articles import fetch
from bot.config import SHIPPED_CONTENT_DIR
from bot.sandbox import Sandbox
from tests.cast import ADMIN, READER
from tests.harness import bot_harness, wait_for

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
    async with bot_with(sandbox, tmp_path, folder) as bot:  # archived across restarts
        (listing,) = await bot.say(ADMIN, "/articles")
        assert SEED not in listing["text"]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "240.0.0.1", "224.0.0.1",
     "0.0.0.0", "::1", "fe80::1", "::ffff:127.0.0.1", "fc00::1"],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not fetch.is_public(ipaddress.ip_address(address))


def test_public_addresses_pass() -> None:
    assert fetch.is_public(ipaddress.ip_address("93.184.216.34"))
    assert fetch.is_public(ipaddress.ip_address("2606:2800:220:1::1"))


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(fetch.FetchError) as refused:
        await fetch.check_address("http://localhost:8080/x", allow_private=False)
    assert "private or local address" in refused.value.render("en")


async def test_every_redirect_hop_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A public page that redirects inside is refused at the hop that leads there."""
    from aiohttp import web

    from tests.bot.test_compose import _app  # the test site: /moved redirects to /pages/en

    runner = web.AppRunner(_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    checked: list[str] = []

    async def check(url: str, *, allow_private: bool) -> None:
        checked.append(url)
        if url.endswith("/pages/en"):
            raise fetch.FetchError(fetch.Problem(fetch.REFUSED, {"url": url, "address": "x"}))

    monkeypatch.setattr(fetch, "check_address", check)
    try:
        with pytest.raises(fetch.FetchError):
            await fetch.fetch(f"http://127.0.0.1:{port}/moved", allow_private=False)
    finally:
        await runner.cleanup()
    assert checked == [f"http://127.0.0.1:{port}/moved", f"http://127.0.0.1:{port}/pages/en"]
