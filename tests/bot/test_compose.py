"""/newarticle end to end: an article from pasted text, a forwarded post and a link (served
by a local HTTP server from tests/pages/), its preview, Publish, /articles, a restart; and
every bad input, refused with a message and nothing saved."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.articles import compose, fetch
from bot.sandbox import Sandbox
from bot.sandbox.messaging import store_file
from bot.sandbox.models import Upload
from storage.clock import ManualClock
from tests.bot.test_drafts import buttons, press
from tests.cast import ADMIN, ADMIN_RU, PLANTNEWS, READER
from tests.harness import BotHarness, bot_harness

PAGES = Path(__file__).resolve().parent.parent / "pages"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (40).to_bytes(4) + (30).to_bytes(4) + bytes(8)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ALLOW = "allow_private = true\n"
TEXT = (
    "Plant hires again\n"
    "The Moscow plant will hire 1,200 workers next spring, the city said on Monday.\n\n"
    "Engineers from KAMAZ will set up a new line for electric vans. The first vans should "
    "leave the line in May, and a second shift will follow in the autumn."
)


# ---------------------------------------------------------------- the local web server


async def _page(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return web.Response(
        body=(PAGES / f"{name}.html").read_bytes(), content_type="text/html", charset="utf-8"
    )


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(1)
    return web.Response(text="<p>late</p>", content_type="text/html")


BIG_STOPPED = asyncio.Event()  # set when the endless page's client went away


async def _big(request: web.Request) -> web.StreamResponse:
    """An endless page (no Content-Length: the size shows only while reading)."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    try:
        while True:
            await response.write(b"<p>" + b"x" * 1000 + b"</p>")
    except (ConnectionError, RuntimeError):
        BIG_STOPPED.set()
    return response


async def _cp1251(request: web.Request) -> web.Response:
    """The Russian page in windows-1251, as its server and its markup declare."""
    text = (
        (PAGES / "ru.html").read_text("utf-8").replace('charset="utf-8"', 'charset="windows-1251"')
    )
    return web.Response(
        body=text.encode("cp1251"), content_type="text/html", charset="windows-1251"
    )


async def _gif_lead(request: web.Request) -> web.Response:
    """The English page with a GIF as its lead image."""
    text = (PAGES / "en.html").read_text("utf-8").replace("/images/lead.png", "/images/lead.gif")
    return web.Response(text=text, content_type="text/html")


async def _bad_redirect(request: web.Request) -> web.Response:
    return web.Response(status=302, headers={"Location": "http://a:99999/"})


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/pages/{name}", _page)
    app.router.add_get("/images/lead.png", _bytes(PNG, "image/png"))
    app.router.add_get("/missing", _bytes(b"gone", "text/html", 404))
    app.router.add_get("/report.pdf", _bytes(b"%PDF-1.4", "application/pdf"))
    app.router.add_get("/slow", _slow)
    app.router.add_get("/big", _big)
    app.router.add_get("/moved", _redirect("/pages/en"))
    app.router.add_get("/loop", _redirect("/loop"))
    app.router.add_get("/bad-redirect", _bad_redirect)
    app.router.add_get("/cp1251", _cp1251)
    app.router.add_get("/gif-lead", _gif_lead)
    app.router.add_get("/images/lead.gif", _bytes(b"GIF89a" + bytes(20), "image/gif"))
    return app


def _bytes(body: bytes, kind: str, status: int = 200) -> Any:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=kind, status=status)

    return handle


def _redirect(to: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        raise web.HTTPFound(to)

    return handle


@pytest.fixture
async def site() -> AsyncIterator[str]:
    """The base URL of a local web server (127.0.0.1, a free port)."""
    runner = web.AppRunner(_app())
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- the conversation


def compose_bot(sandbox: Sandbox, path: Path, *, allow: bool = True, **sections: str) -> Any:
    fetch_section = {"fetch": ALLOW} if allow else {}
    return bot_harness(
        sandbox, path, clock=ManualClock(NOW), preview=True, **fetch_section, **sections
    )


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text") or m.get("caption") or "") for m in messages)


async def start(bot: BotHarness, user: int = ADMIN, command: str = "/newarticle") -> None:
    (asked,) = await bot.say(user, command)
    assert "Send me the article" in asked["text"] or "статью" in asked["text"]


async def publish(
    bot: BotHarness, shown: list[dict[str, Any]], user: int = ADMIN, label: str = "Publish"
) -> None:
    press(bot, user, shown[-1], label)
    await bot.drain()


async def test_an_article_from_pasted_text_is_previewed_published_listed_and_kept(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        bot.world.raw(_message(bot, ADMIN, TEXT, bold="1,200"))
        shown = await _drain_new(bot, ADMIN)
        assert set(buttons(shown[-1])) == {"Publish", "Schedule", "Cancel"}
        summary, post = shown[1], shown[2]
        assert summary["text"].startswith("Plant hires again\n\nSummary\n• ")
        assert post["sandbox"]["html"].startswith("<b>Plant hires again</b>")
        assert "<b>1,200</b>" in post["sandbox"]["html"]  # Telegram's bold kept as HTML
        assert "Plant News (@plantnews)" in shown[-1]["text"]
        assert bot.bot_messages(PLANTNEWS) == []

        await publish(bot, shown)
        (posted,) = bot.bot_messages(PLANTNEWS)
        assert posted["sandbox"]["html"] == post["sandbox"]["html"]
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "a-1 — Plant hires again" in listing["text"]
        assert "from: text sent in Telegram" in listing["text"]
    async with compose_bot(sandbox, tmp_path) as bot:  # a restart keeps it
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "a-1 — Plant hires again" in listing["text"]
        (shown,) = await bot.say(ADMIN, "/article a-1")
        assert "Plant hires again" in shown["text"] and "@plantnews ·" in shown["text"]
        assert "Posted: 1" in shown["text"]


async def test_a_forwarded_photo_post_goes_out_as_a_photo_with_its_caption(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        photo = store_file(bot.world, "photo", Upload("van.png", "image/png", PNG))
        caption = "New vans shown\nThe plant showed its first electric van to the press today."
        bot.world.raw(_message(bot, ADMIN, caption, photo=photo.file_id, forwarded=True))
        shown = await _drain_new(bot, ADMIN)
        assert "photo" in shown[2] and shown[2]["caption"].startswith("New vans shown")

        await publish(bot, shown)
        (posted,) = bot.bot_messages(PLANTNEWS)
        assert posted["photo"][0]["file_id"] == photo.file_id
        assert posted["caption"].startswith("New vans shown\n\nThe plant showed")
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "from: a forwarded message" in listing["text"]


def utf16(text: str, part: str) -> dict[str, int]:
    """Telegram's offset and length of ``part`` in ``text`` (UTF-16 code units)."""
    start = text.index(part)
    return {
        "offset": len(text[:start].encode("utf-16-le")) // 2,
        "length": len(part.encode("utf-16-le")) // 2,
    }


async def test_formatting_across_lines_emoji_and_nesting_give_whole_html(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Bold from the title into the body, italic inside it, a quote over two paragraphs,
    emoji before all of them (two UTF-16 units each): every part is whole HTML."""
    text = (
        "🚐🚐 Vans are back\n"
        "Bold all along 🔋 the first line of the body.\n\n"
        "A quote of the city, over two paragraphs:\n\n"
        "the plant will hire 1,200 workers in spring."
    )
    entities = [
        {"type": "bold", **utf16(text, "back\nBold all along 🔋 the first")},
        {"type": "italic", **utf16(text, "along 🔋 the")},
        {"type": "blockquote", **utf16(text, "of the city, over two paragraphs:\n\nthe plant")},
    ]
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        bot.world.raw(_message(bot, ADMIN, text, entities=entities))
        shown = await _drain_new(bot, ADMIN)
        (article,) = await bot.store.composed_articles()
        assert article.title == "🚐🚐 Vans are back"
        assert article.body.split("\n\n") == [
            "<b>Bold all <i>along 🔋 the</i> first</b> line of the body.",
            "A quote <blockquote>of the city, over two paragraphs:</blockquote>",
            "<blockquote>the plant</blockquote> will hire 1,200 workers in spring.",
        ]
        await publish(bot, shown)
        (posted,) = bot.bot_messages(PLANTNEWS)[:1]
        assert "<b>Bold all <i>along 🔋 the</i> first</b>" in posted["sandbox"]["html"]


async def test_a_forwarded_text_message_becomes_an_article(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        bot.world.raw(_message(bot, ADMIN, TEXT, bold="1,200", forwarded=True))
        shown = await _drain_new(bot, ADMIN)
        assert shown[1]["text"].startswith("Plant hires again")
        (article,) = await bot.store.composed_articles()
        assert article.source == "forward" and "<b>1,200</b>" in article.body


async def test_an_english_link_is_extracted_without_navigation_ads_or_comments(
    sandbox: Sandbox, tmp_path: Path, site: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        shown = await bot.say(ADMIN, f"{site}/moved")  # a redirect to /pages/en
        summary, post = shown[1], shown[2]
        assert summary["text"].startswith("Moscow van plant restarts in spring\n\nSummary")
        assert "photo" in post  # the lead image, downloaded and uploaded
        body = texts(shown)
        assert "electric delivery vans" in body and "battery cells" in body
        for junk in ("Subscribe for", "ADVERTISEMENT", "energy drink", "ivan77", "Most read"):
            assert junk not in body

        await publish(bot, shown)
        parts = bot.bot_messages(PLANTNEWS)
        assert "photo" in parts[0] and parts[0]["caption"].startswith("Moscow van plant")
        assert f"{site}/pages/en" in parts[-1]["sandbox"]["html"]  # the source link
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "language: en" in listing["text"] and "from: a link" in listing["text"]
    async with compose_bot(sandbox, tmp_path) as bot:
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "Moscow van plant restarts in spring" in listing["text"]


async def test_a_russian_link_gets_a_russian_summary(
    sandbox: Sandbox, tmp_path: Path, site: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, ADMIN_RU, "/newarticle @plantnews")
        shown = await bot.say(ADMIN_RU, f"{site}/pages/ru")
        summary = shown[1]["text"]
        assert summary.startswith("Московский завод возобновит выпуск машин весной\n\nКратко")
        assert "фургон" in summary and "РЕКЛАМА" not in texts(shown)
        assert "Подписка" not in texts(shown) and "petrovich" not in texts(shown)
        await publish(bot, shown, ADMIN_RU, "Опубликовать")
        assert bot.bot_messages(PLANTNEWS)
        (listing,) = await bot.say(ADMIN, "/articles")
        assert "language: ru" in listing["text"]


async def test_a_link_to_127_0_0_1_is_refused_by_default(
    sandbox: Sandbox, tmp_path: Path, site: str
) -> None:
    async with compose_bot(sandbox, tmp_path, allow=False) as bot:
        await start(bot)
        (refused,) = await bot.say(ADMIN, f"{site}/pages/en")
        assert "private or local address (127.0.0.1)" in refused["text"]
        assert await bot.store.composed_articles() == []


async def test_own_summary_poll_and_no_poll_change_the_draft(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        await bot.say(ADMIN, TEXT)
        shown = await bot.say(ADMIN, "• Plant hires 1,200\n• Vans in May")
        assert "Summary\n• Plant hires 1,200\n• Vans in May" in shown[1]["text"]
        shown = await bot.say(ADMIN, "Would you work there? | Yes | No | 2d")
        poll = next(m for m in shown if m["text"].startswith("Poll: "))
        assert "Would you work there?" in poll["text"] and "open for 2d" in poll["text"]
        shown = await bot.say(ADMIN, "Will it work? | Yes | No")
        await publish(bot, shown)
        (campaign,) = [m for m in bot.bot_messages(PLANTNEWS) if "poll" in m]
        assert campaign["poll"]["question"] == "Will it work?"

    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        await bot.say(ADMIN, TEXT)
        await bot.say(ADMIN, "Q? | a | b")
        shown = await bot.say(ADMIN, "no poll")
        assert not any(m["text"].startswith("Poll: ") for m in shown)


async def test_schedule_button_asks_the_time_and_queues_the_post(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        shown = await bot.say(ADMIN, TEXT)
        press(bot, ADMIN, shown[-1], "Schedule")
        await bot.drain()
        assert "When should draft #1 go out?" in bot.bot_messages(ADMIN)[-1]["text"]
        (queued,) = await bot.say(ADMIN, "2026-12-01 09:00")
        assert "Scheduled post #1: a-1 to @plantnews at 2026-12-01 09:00 UTC" in queued["text"]
        (listing,) = await bot.say(ADMIN, "/queue")
        assert (
            "#1 · 2026-12-01 09:00 UTC · a-1 Plant hires again → @plantnews" in (listing["text"])
        )
        assert bot.bot_messages(PLANTNEWS) == []


# ---------------------------------------------------------------- bad input


BAD_LINKS = [
    ("/missing", "answered 404"),
    ("/report.pdf", "is not a web page (it is application/pdf)"),
    ("/pages/empty", "I found no article text on"),
    ("/loop", "redirects more than 5 times"),
    ("/bad-redirect", "“http://a:99999/” is not a valid link: check its host and port."),
]


@pytest.mark.parametrize(("path", "expected"), BAD_LINKS)
async def test_a_bad_link_is_explained_and_nothing_is_saved(
    sandbox: Sandbox, tmp_path: Path, site: str, path: str, expected: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot)
        (refused,) = await bot.say(ADMIN, f"{site}{path}")
        assert expected in refused["text"]
        assert await bot.store.composed_articles() == []


@pytest.mark.parametrize(
    ("path", "limits", "expected"),
    [
        ("/slow", fetch.Limits(seconds=0.3), "did not answer within 0.3 seconds"),
        ("/big", fetch.Limits(max_bytes=10_000), "is larger than 1 MB"),
    ],
)
async def test_a_timeout_or_an_oversized_page_is_refused(
    sandbox: Sandbox,
    tmp_path: Path,
    site: str,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    limits: fetch.Limits,
    expected: str,
) -> None:
    monkeypatch.setattr(fetch, "LIMITS", limits)
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot)
        (refused,) = await bot.say(ADMIN, f"{site}{path}")
        assert expected in refused["text"]
        assert await bot.store.composed_articles() == []
    if path == "/big":  # the bot hung up: the endless page stopped being sent
        await asyncio.wait_for(BIG_STOPPED.wait(), 10)


async def test_a_windows_1251_page_is_read_in_its_charset(
    sandbox: Sandbox, tmp_path: Path, site: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, ADMIN_RU)
        shown = await bot.say(ADMIN_RU, f"{site}/cp1251")
        assert shown[1]["text"].startswith("Московский завод возобновит выпуск машин весной")


async def test_a_gif_lead_image_is_left_out(sandbox: Sandbox, tmp_path: Path, site: str) -> None:
    """Only JPEG, PNG and WebP are posted as photos: the article goes without the GIF."""
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot)
        shown = await bot.say(ADMIN, f"{site}/gif-lead")
        assert shown[1]["text"].startswith("Moscow van plant restarts in spring")
        assert not any("photo" in m for m in shown)


async def test_a_lead_image_telegram_refuses_is_left_out(
    sandbox: Sandbox, tmp_path: Path, site: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        await publish(bot, await bot.say(ADMIN, f"{site}/pages/en"))
        await bot.store.set_article_image_file_id("a-1", "a-file-telegram-no-longer-has")
        before = len(bot.bot_messages(PLANTNEWS))
        (report,) = await bot.say(ADMIN, "/post a-1 @plantnews now")
        assert "@plantnews: posted" in report["text"]
        again = bot.bot_messages(PLANTNEWS)[before:]
        assert again[0]["text"].startswith("Moscow van plant") and "photo" not in again[0]


async def test_the_page_and_its_image_share_one_time_budget(
    site: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    budgets: list[float | None] = []
    real = fetch.fetch

    async def recording(url: str, **kwargs: Any) -> fetch.Download:
        budgets.append(kwargs.get("until"))
        return await real(url, **kwargs)

    monkeypatch.setattr(fetch, "fetch", recording)
    found = await compose.from_link(f"{site}/pages/en", allow_private=True)
    assert found.image is not None
    assert len(budgets) == 2 and budgets[0] is not None and budgets[0] == budgets[1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Only a title", "has no text below it"),
        ("ftp://example.com/article", "is not an http:// or https:// link"),
        ("file:///etc/passwd", "is not an http:// or https:// link"),
        ("http://[::1/", "“http://[::1/” is not a valid link"),
        ("http://a:99999/", "“http://a:99999/” is not a valid link"),
        ("http://a:abc/", "“http://a:abc/” is not a valid link"),
        ("http://me:secret@127.0.0.1/", "holds a user name or password"),
    ],
)
async def test_bad_text_is_explained_and_nothing_is_saved(
    sandbox: Sandbox, tmp_path: Path, text: str, expected: str
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot)
        (refused,) = await bot.say(ADMIN, text)
        assert expected in refused["text"]
        assert await bot.store.composed_articles() == []


async def test_an_empty_message_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot)
        bot.world.raw(_message(bot, ADMIN, "   \n  "))
        (refused,) = await _drain_new(bot, ADMIN)
        assert "There is no article in this message" in refused["text"]
        assert await bot.store.composed_articles() == []


async def test_a_poll_line_with_errors_is_refused_and_the_draft_keeps_no_poll(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        await bot.say(ADMIN, TEXT)
        (refused,) = await bot.say(ADMIN, "Q? | a | b | 2d mutli")
        assert (
            "Nothing was sent" in refused["text"] and "did you mean “multi”?" in (refused["text"])
        )
        (refused,) = await bot.say(ADMIN, "Q? | a | b | public")  # checked per target
        assert "Nothing was sent" in refused["text"] and "@plantnews" in refused["text"]
        assert "&lt;" not in refused["text"] and "<b>" not in refused["text"]
        (refused,) = await bot.say(ADMIN, "Q? | <a> | <a> | 2d mutli")  # shown as typed
        assert "<a>" in refused["text"] and "&lt;" not in refused["text"]
        (article,) = await bot.store.composed_articles()
        assert article.poll is None


async def test_a_time_in_the_past_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        await start(bot, command="/newarticle @plantnews")
        shown = await bot.say(ADMIN, TEXT)
        press(bot, ADMIN, shown[-1], "Schedule")
        await bot.drain()
        (refused,) = await bot.say(ADMIN, "2026-11-01 09:00")
        assert "is already past" in refused["text"]
        (refused,) = await bot.say(ADMIN, "tomorrow-ish")
        assert "is not a time I can read" in refused["text"]
        assert await bot.store.scheduled_posts("pending") == []


async def test_an_unknown_article_id_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        (refused,) = await bot.say(ADMIN, "/article nope")
        assert refused["text"] == "There is no article nope: see /articles."
        (refused,) = await bot.say(ADMIN, "/delarticle nope")
        assert refused["text"] == "There is no article nope: see /articles."
        (refused,) = await bot.say(ADMIN, "/post nope @plantnews at 2026-12-01 09:00")
        assert "There is no article nope" in refused["text"]
        assert await bot.store.scheduled_posts("pending") == []


async def test_newarticle_is_for_admins_only(sandbox: Sandbox, tmp_path: Path) -> None:
    async with compose_bot(sandbox, tmp_path) as bot:
        (refused,) = await bot.say(READER, "/newarticle")
        assert "only the bot's admins" in refused["text"]
        assert await bot.say(READER, TEXT) == []
        assert await bot.store.composed_articles() == []


# ---------------------------------------------------------------- helpers

_IDS = itertools.count(900_000)


def _message(
    bot: BotHarness,
    user: int,
    text: str,
    *,
    bold: str | None = None,
    photo: str | None = None,
    forwarded: bool = False,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A raw update: a private message to the bot, maybe forwarded, maybe a photo."""
    person = bot.world.user(user)
    sender = {"id": user, "is_bot": False, "first_name": person.first_name}
    message: dict[str, Any] = {
        "message_id": next(_IDS),
        "date": int(NOW.timestamp()),
        "chat": {"id": user, "type": "private", "first_name": person.first_name},
        "from": sender,
    }
    entities = list(entities or [])
    if bold is not None:
        start = text.index(bold)
        entities.append({"type": "bold", "offset": start, "length": len(bold)})
    if photo is not None:
        message["photo"] = [{"file_id": photo, "file_unique_id": "van", "width": 40, "height": 30}]
        message["caption"] = text
        message["caption_entities"] = entities
    else:
        message["text"] = text
        message["entities"] = entities
    if forwarded:
        message["forward_origin"] = {
            "type": "channel",
            "chat": {"id": -1009999, "type": "channel", "title": "Other news"},
            "message_id": 77,
            "date": int(NOW.timestamp()),
        }
    return {"message": message}


async def _drain_new(bot: BotHarness, chat: int) -> list[dict[str, Any]]:
    bot.new_messages(chat)
    await bot.drain()
    return [m for m in bot.new_messages(chat) if m.get("from", {}).get("is_bot")]
