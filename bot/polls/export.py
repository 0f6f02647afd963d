"""CSV export of a campaign: counts per chat and combined, and every vote of public polls.

One table; the ``kind`` column says what a row is:

- ``count``: one row per option per chat: ``votes`` for the option and ``total_voters`` of
  that chat's poll, ``closed`` 1 or 0;
- ``total``: one row per option for the whole campaign (chat and poll columns empty;
  options users added are merged across chats by their text);
- ``vote``: one row per voter and chosen option, for public (non-anonymous) polls only.
  ``voter`` is the Telegram user id (or the chat id when ``voter_is_chat`` is 1), or a
  keyed hash of it when ``[privacy] hash_voters`` is on.

A poll whose results are hidden until it closes has no counts in the file before it
closes (``votes`` is empty, ``total_voters`` says how many voted so far) and no ``vote``
rows: nobody sees its counts anywhere until then, in a chat or in a file.

Columns: kind, campaign_id, chat_id, chat, poll_id, position (0-based, as Telegram's
option_ids), persistent_id, option, votes, total_voters, closed, voter, voter_is_chat.
Texts starting with = + - @ get a leading ' so that spreadsheets do not run them as
formulas (a chat's own @username is left as is). The file is UTF-8 with a BOM, which
spreadsheets need for Cyrillic: ``/export`` sends it as a document, ``pollbot export``
writes the same bytes to a file or to stdout.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from telegram import InputFile, Message, Update
from telegram.ext import ContextTypes

from bot.admin.auth import admin_or_chat_admin, managed_campaign
from bot.config import USERNAME_RE, Config
from bot.polls.results import combined
from bot.replies import reply_with
from bot.services import services
from bot.texts import N_, escape, translate
from storage import Store
from storage.polls import Campaign

COLUMNS = (
    "kind",
    "campaign_id",
    "chat_id",
    "chat",
    "poll_id",
    "position",
    "persistent_id",
    "option",
    "votes",
    "total_voters",
    "closed",
    "voter",
    "voter_is_chat",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
USAGE = N_("Send /export POLL_ID (the number in /polls).")
REFUSED = N_("Only the administrators of all its chats can export poll #{id}.")


def _text(value: str) -> str:
    if value.startswith(_FORMULA_START) and not USERNAME_RE.match(value):
        return "'" + value
    return value


async def write_csv(store: Store, campaign_id: int, out: TextIO) -> bool:
    """Write the campaign's CSV to ``out``; False (nothing written) if there is no such
    campaign. Votes are streamed from the store, never all held in memory."""
    campaign = await store.campaign(campaign_id)
    if campaign is None:
        return False
    await _write_rows(store, campaign, out)
    return True


async def _write_rows(store: Store, campaign: Campaign, out: TextIO) -> None:
    campaign_id = campaign.id
    polls = await store.counts_of(campaign_id)  # one read: per-chat rows and totals agree
    result = await combined(store, campaign, polls)
    hidden = result.hidden  # hidden until it closes: no counts, no votes
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    names = {chat.poll_id: chat.chat_name for chat in result.chats}
    for counts in polls:
        poll = counts.poll
        chat = [poll.chat_id, _text(names.get(poll.poll_id, "")), poll.poll_id]
        for option in counts.options:
            writer.writerow(
                [
                    "count",
                    campaign_id,
                    *chat,
                    option.position,
                    option.persistent_id,
                    _text(option.text),
                    "" if hidden else option.voter_count,
                    poll.total_voters,
                    int(poll.is_closed),
                    "",
                    "",
                ]
            )
    for position, total in enumerate(result.options):
        writer.writerow(
            [
                "total",
                campaign_id,
                "",
                "",
                "",
                position,
                "",
                _text(total.label),
                "" if hidden else total.count,
                result.total_voters,
                int(result.is_closed),
                "",
                "",
            ]
        )
    for counts in polls:
        if counts.poll.is_anonymous or hidden:
            continue
        poll = counts.poll
        texts = {option.persistent_id: option.text for option in counts.options}
        chat = [poll.chat_id, _text(names.get(poll.poll_id, "")), poll.poll_id]
        async for answer in store.answers(poll.poll_id):
            for persistent_id, position in zip(answer.option_ids, answer.positions, strict=False):
                writer.writerow(
                    [
                        "vote",
                        campaign_id,
                        *chat,
                        position,
                        persistent_id,
                        _text(texts.get(persistent_id, "")),
                        "",
                        "",
                        "",
                        answer.voter,
                        int(answer.is_chat),
                    ]
                )


async def write_file(store: Store, campaign: Campaign, out: BinaryIO) -> None:
    """Write the CSV file of both ``/export`` and ``pollbot export`` to ``out``: UTF-8 with
    a byte-order mark, which spreadsheets need for Cyrillic; the rows are streamed, as by
    ``write_csv``."""
    out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        await _write_rows(store, campaign, text)
    finally:
        text.flush()
        text.detach()  # ``out`` stays open: it belongs to the caller


async def file_bytes(store: Store, campaign: Campaign) -> bytes:
    """The CSV file as bytes (see ``write_file``)."""
    buffer = io.BytesIO()
    await write_file(store, campaign, buffer)
    return buffer.getvalue()


async def csv_bytes(store: Store, campaign_id: int) -> bytes | None:
    """The CSV file of campaign ``campaign_id`` as bytes, or None without that campaign."""
    campaign = await store.campaign(campaign_id)
    return None if campaign is None else await file_bytes(store, campaign)


@admin_or_chat_admin
async def send_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a campaign's counts and public votes as a CSV document."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    found = await managed_campaign(update, context, USAGE, REFUSED)
    if found is None:
        return
    campaign, _polls = found
    store = services(context).store
    caption = translate(
        user.language_code, "Poll #{id}: {question}", id=campaign.id, question=campaign.question
    )

    async def send(chat_message: Message) -> Message:  # built only if not sent before
        data = await file_bytes(store, campaign)
        document = InputFile(data, filename=f"poll-{campaign.id}.csv")
        return await chat_message.reply_document(document, caption=escape(caption[:1000]))

    sent = await reply_with(update, context, "export", send)
    if sent is not None and sent.now:
        await store.audit(user.id, "poll.export", target=f"#{campaign.id}")


async def export_to(config: Config, campaign_id: int, out: Path | None) -> int:
    """``pollbot export``: write the CSV to ``out`` (or stdout); an exit status."""
    async with await Store.open_existing(config.storage.path) as store:
        campaign = await store.campaign(campaign_id)
        if campaign is None:
            print(f"pollbot: no poll #{campaign_id} in {config.storage.path}", file=sys.stderr)
            return 1
        if out is None:
            sys.stdout.flush()
            await write_file(store, campaign, sys.stdout.buffer)
            return 0
        with out.open("wb") as handle:
            await write_file(store, campaign, handle)
    print(f"poll #{campaign_id} exported to {out}", file=sys.stderr)
    return 0
