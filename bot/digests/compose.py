"""One digest: composed from stored counts, compared with the previous digest to the same
chat, rendered as HTML (split at Telegram's limits) with a PNG chart, claimed, then sent.

Only kept counts, snapshots and digest items are read: a digest never scans the answers.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram.constants import MessageLimit
from telegram.error import TelegramError
from telegram.ext import CallbackContext

from bot.admin.chats import failure_reason, note_failure
from bot.digests import schedules
from bot.digests.charts import MAX_PANELS, ChartData, TrendPoint, draw, result_chart, trend_of
from bot.polls.results import (
    CampaignResult,
    OptionTotal,
    combined,
    hidden_text,
    option_lines,
    state_text,
    voters_text,
)
from bot.polls.scope import Audience, for_chat, for_user, views
from bot.replies import SendKey, send_once
from bot.services import services
from bot.split import pack
from bot.texts import (
    Gettext,
    bold,
    escape,
    gettext_for,
    telegram_length,
    translate_plural,
)
from storage import Store
from storage.chats import ChatRecord
from storage.digests import DigestItem
from storage.polls import PollCounts

log = logging.getLogger(__name__)
Context = CallbackContext[Any, Any, Any, Any]

MAX_CAPTION = int(MessageLimit.CAPTION_LENGTH)
MAX_CAMPAIGNS = 30
FIRST_LOOKBACK = timedelta(days=1)  # closed campaigns a chat's first digest still shows
WEEK = timedelta(days=7)  # week over week: the change since the same time a week earlier


def timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


# -- composing --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """Which digest to send where: the schedule (None for /digest) and its due time."""

    schedule_id: int | None
    target_chat: int
    language: str
    timezone: ZoneInfo
    due_at: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class CampaignDigest:
    """One campaign in a digest, with what the previous digest showed of it."""

    result: CampaignResult
    previous: DigestItem | None
    readers: int | None  # readers who asked for the article's summary (every chat's view)
    trend: tuple[TrendPoint, ...] = ()
    week_ago: int | None = None  # voters a week earlier (None: younger than a week)
    article_voters: int = 0  # the voters of the article's campaigns in this digest

    @property
    def shown_voters(self) -> int:
        """The voters the digest may show: none of a poll whose results are hidden (its
        rank among the others would tell its count)."""
        return 0 if self.result.hidden else self.result.total_voters

    @property
    def campaign_id(self) -> int:
        return self.result.campaign.id

    @property
    def voters(self) -> int:
        return self.result.total_voters

    def changed(self, since: int) -> bool:
        """Is there news since the previous digest (at ``since``): new here, other counts
        than it showed, or closed since?"""
        closed_at = self.result.campaign.closed_at
        fresh_close = closed_at is not None and closed_at >= since
        return self.previous is None or self.previous != self.item or fresh_close

    @property
    def item(self) -> DigestItem:
        if self.result.hidden:  # nothing shown, so nothing to compare with later
            return DigestItem(self.result.campaign.id, 0, (), None)
        leaders = self.result.leaders
        return DigestItem(
            self.result.campaign.id,
            self.result.total_voters,
            tuple((o.key, o.count) for o in self.result.options),
            leaders[0].key if len(leaders) == 1 else None,
        )

    def chart(self) -> ChartData:
        return result_chart(self.result, self.trend)


@dataclass(frozen=True, slots=True)
class Digest:
    request: DigestRequest
    campaigns: tuple[CampaignDigest, ...]
    compared: bool  # there was a previous digest to this chat
    admin: bool = False  # the private admin view (bot/polls/scope.py)
    since: int = 0  # when the previous digest to this chat was claimed
    left_out: tuple[CampaignDigest, ...] = ()  # composed, not shown: unchanged and empty

    @property
    def unchanged(self) -> bool:
        """Nothing to tell: a previous digest showed all of this as it is now."""
        return self.compared and not any(item.changed(self.since) for item in self.campaigns)

    @property
    def charted(self) -> list[CampaignDigest]:
        """The campaigns the chart shows: those with counts to show."""
        return [item for item in self.campaigns if not item.result.hidden]

    @property
    def items(self) -> list[DigestItem]:
        """What to remember of this digest, one item per campaign."""
        found: dict[int, DigestItem] = {}
        for item in (*self.campaigns, *self.left_out):
            found.setdefault(item.result.campaign.id, item.item)
        return list(found.values())


async def audience_of(context: Context, request: DigestRequest) -> Audience:
    """Who reads a digest: a channel or group sees its own polls only; a private chat
    what its user may see (the whole admin view for the bot's admins)."""
    if request.target_chat < 0:
        return for_chat(request.target_chat, request.language)
    chats = await services(context).store.chats()
    among = [chat.chat_id for chat in chats]
    return await for_user(context, request.target_chat, request.language, among)


async def compose(
    store: Store, request: DigestRequest, audience: Audience, *, trends: bool
) -> Digest:
    """Read everything a digest shows from stored counts (answers are never scanned): the
    campaigns this audience may see, as it may see them."""
    previous = await store.last_sent_digest(request.target_chat)
    since = previous.claimed_at if previous else timestamp(request.now - FIRST_LOOKBACK)
    before = await store.digest_items(previous.id) if previous else {}
    if audience.chats is None:
        shown = await store.campaigns(closed_since=since, limit=MAX_CAMPAIGNS)
    else:
        wanted = sorted(audience.chats)
        shown = await store.campaigns_in_chats(wanted, closed_since=since, limit=MAX_CAMPAIGNS)
    chats: dict[int | None, ChatRecord | None] = {}
    found: list[tuple[CampaignDigest, list[PollCounts]]] = []
    for campaign in shown:
        polls = await store.counts_of(campaign.id)
        result = await combined(store, campaign, polls, chats)
        # The summary readers are counted over every chat: only a view of every chat has them.
        readers = None
        if audience.chats is None and campaign.article_id is not None:
            readers = await store.summary_readers(campaign.article_id)
        for index, view in enumerate(views(result, audience)):
            own = [p for p in polls if p.poll.poll_id in {c.poll_id for c in view.chats}]
            was = before.get(campaign.id) if index == 0 else None
            week = await _week_ago(store, view, own, request.now)
            found.append((CampaignDigest(view, was, readers, week_ago=week), own))
    found = _with_article_voters(found)
    worth = [
        (item, own)
        for item, own in found
        if previous is None or item.changed(since) or item.shown_voters
    ]
    left_out = tuple(item for item, own in found if (item, own) not in worth)
    worth.sort(
        key=lambda pair: (-pair[0].shown_voters, pair[0].result.is_closed, -pair[0].campaign_id)
    )
    campaigns: list[CampaignDigest] = []
    for item, own in worth:  # the chart shows the polls with most voters
        charted = sum(not c.result.hidden for c in campaigns)
        if trends and not item.result.hidden and charted < MAX_PANELS:
            trend = await trend_of(store, item.result, own, request.now)
            item = dataclasses.replace(item, trend=trend)
        campaigns.append(item)
    return Digest(request, tuple(campaigns), previous is not None, audience.admin, since, left_out)


def _with_article_voters(
    found: list[tuple[CampaignDigest, list[PollCounts]]],
) -> list[tuple[CampaignDigest, list[PollCounts]]]:
    """Each campaign with the voters of its article's campaigns in the digest (the base of
    the readers' share)."""
    voters: dict[str | None, int] = {}
    for item, _own in found:
        article = item.result.campaign.article_id
        voters[article] = voters.get(article, 0) + item.voters
    return [
        (dataclasses.replace(item, article_voters=voters[item.result.campaign.article_id]), own)
        for item, own in found
    ]


async def _week_ago(
    store: Store, result: CampaignResult, polls: Sequence[PollCounts], now: datetime
) -> int | None:
    """The voters of these polls a week before ``now``, if the campaign is that old."""
    then = timestamp(now - WEEK)
    if result.hidden or result.campaign.created_at > then:
        return None
    totals = [await store.total_at(p.poll.poll_id, then // 60) for p in polls]
    return sum(total or 0 for total in totals)


# -- rendering --------------------------------------------------------------------------


def render(digest: Digest) -> tuple[str, list[str]]:
    """The digest's header and one HTML block per campaign."""
    request = digest.request
    language = request.language
    _ = gettext_for(language)
    opened = sum(not c.result.is_closed for c in digest.campaigns)
    title = bold(_("Poll digest")) + " · " + schedules.when(request.due_at, request.timezone)
    counts = translate_plural(language, "{n} open poll", "{n} open polls", opened)
    counts += " · " + translate_plural(
        language, "{n} closed", "{n} closed", len(digest.campaigns) - opened
    )
    header = f"🗞 {title}\n{counts}"
    articles: set[str | None] = set()
    blocks: list[str] = []
    for item in digest.campaigns:  # the summary readers once per article
        article = item.result.campaign.article_id
        blocks.append(
            _block(item, digest.compared, language, digest.admin, article not in articles)
        )
        articles.add(article)
    return header, blocks or [_("No open polls, and none closed since the last digest.")]


def _block(
    item: CampaignDigest, compared: bool, language: str | None, admin: bool, readers: bool
) -> str:
    _ = gettext_for(language)
    result, previous = item.result, item.previous
    state = state_text(result, language)
    if compared and previous is None:
        state += " · " + _("new")
    lines = [f"📊 {bold(result.question)}"]
    if result.hidden:
        return "\n".join([*lines, state, hidden_text(result, language, admin=admin)])
    voters = voters_text(result, language)
    if previous is not None:
        voters += " " + _delta(item, _)
    lines.append(f"{state} · {voters}")

    def change(option: OptionTotal) -> str:
        before = previous.count_of(option.key) if previous else None
        return f", {option.count - before:+d}" if before not in (None, option.count) else ""

    lines += option_lines(result, language, change=change)
    lines += _leader_note(item, _)
    if admin and len(result.chats) > 1:
        split = [f"{escape(c.chat_name)} {c.total_voters}" for c in result.chats]
        lines.append("💬 " + _("By chat: {split}").format(split=" · ".join(split)))
    if item.week_ago is not None:
        weekly = result.total_voters - item.week_ago
        lines.append("📅 " + _("Voters, week over week: {change:+d}").format(change=weekly))
    if admin and readers and item.readers is not None:
        line = translate_plural(
            language,
            "Summary requested by {n} reader",
            "Summary requested by {n} readers",
            item.readers,
        )
        if item.article_voters:
            share = min(100, round(100 * item.readers / item.article_voters))
            line += " " + _("(of the voters: {share}%)").format(share=share)
        lines.append("📖 " + line)
    return "\n".join(lines)


def _delta(item: CampaignDigest, _: Gettext) -> str:
    """The change in voters since the previous digest; "no new votes" only if no option
    count changed either."""
    previous = item.previous
    assert previous is not None
    change = item.result.total_voters - previous.total
    if change:
        return f"({change:+d})"
    moved = any(previous.count_of(o.key) not in (None, o.count) for o in item.result.options)
    return _("(votes moved)") if moved else _("(no new votes)")


def _leader_note(item: CampaignDigest, _: Gettext) -> list[str]:
    """A line when the leader is not the one the previous digest showed."""
    previous = item.previous
    if previous is None or previous.total == 0 or item.item.leader == previous.leader:
        return []
    labels = {option.key: escape(option.label) for option in item.result.options}
    now, was = item.item.leader, previous.leader
    if was is None:
        assert now is not None
        return ["🔄 " + _("New leader: {new} (was a tie)").format(new=labels[now])]
    old = labels.get(was, escape(was.lstrip("#+")))
    if now is None:
        return ["🔄 " + _("No single leader any more (was {old})").format(old=old)]
    return ["🔄 " + _("New leader: {new} (was {old})").format(new=labels[now], old=old)]


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    photo: bool = False  # sent with sendPhoto, ``text`` being its caption


def plan(digest: Digest, *, chart: bool) -> list[Part]:
    """The messages of a digest: the chart first (with the whole text as its caption when
    that fits), then the text split at Telegram's limit."""
    header, blocks = render(digest)
    if not chart:
        return [Part(text) for text in pack([header, *blocks], separator="\n\n")]
    whole = "\n\n".join([header, *blocks])
    if telegram_length(whole) <= MAX_CAPTION:
        return [Part(whole, photo=True)]
    return [Part(header, photo=True), *(Part(text) for text in pack(blocks, separator="\n\n"))]


# -- sending ----------------------------------------------------------------------------


async def send_digest(
    context: Context, request: DigestRequest, *, update_id: int | None = None
) -> tuple[bool, str | None]:
    """Claim, compose and send one digest: (claimed, why sending failed if it did).

    The claim is durable before anything is sent; a claim never marked sent (a crash, a
    failed send) is finished by the next call for it, the ledger skipping what went out:
    a digest is sent at least once, and a message of it twice only if the process died
    between Telegram's answer and the ledger's commit.
    ``update_id`` (for /digest) makes a replayed update finish the digest it claimed, and
    skip the messages already sent.
    """
    svc = services(context)
    store, charts = svc.store, svc.config.digest.charts
    key = ledger_key(request, update_id)
    digest_id = await store.claim_digest(
        request.schedule_id,
        request.target_chat,
        timestamp(request.due_at),
        at=timestamp(request.now),
        origin=key.request if update_id is not None else None,
    )
    if digest_id is None:
        log.info(
            "digest of schedule %s due %s was sent before: not sent again",
            request.schedule_id,
            request.due_at,
        )
        return False, None
    digest = await compose(store, request, await audience_of(context, request), trends=charts)
    if request.schedule_id is not None and svc.config.digest.skip_unchanged and digest.unchanged:
        # Nothing changed here since the previous digest: claimed, and left unsent (the
        # next one still compares with what this chat saw last).
        log.info("digest of schedule %s: nothing changed, not sent", request.schedule_id)
        return True, None
    await store.record_digest_items(digest_id, digest.items)
    if not digest.campaigns and request.schedule_id is not None and request.target_chat < 0:
        # Nothing to report: a channel or group is not told so every day.
        await store.mark_digest_sent(digest_id, at=timestamp(request.now), message_ids=[])
        return True, None
    png = await render_png(digest) if charts and digest.charted else None
    ids, error = await _deliver(context, digest, png, key, update_id)
    if ids:
        await store.mark_digest_sent(digest_id, at=timestamp(request.now), message_ids=ids)
    return True, error


async def render_png(digest: Digest) -> bytes | None:
    """The digest's chart, drawn in a worker thread; None (text only) if drawing fails."""
    charts = [item.chart() for item in digest.charted]
    request = digest.request
    return await draw(charts, request.language, request.timezone)


def ledger_key(request: DigestRequest, update_id: int | None) -> SendKey:
    """The ledger key of a digest's first message: under the /digest update that asked for
    it, else under the claim of its schedule and due time."""
    chat_id = request.target_chat
    if update_id is not None:
        return SendKey.of_update(update_id, "digest", chat_id)
    assert request.schedule_id is not None, "a digest is asked by an update or a schedule"
    return SendKey.of_schedule(request.schedule_id, timestamp(request.due_at), "digest", chat_id)


async def _deliver(
    context: Context, digest: Digest, png: bytes | None, key: SendKey, update_id: int | None
) -> tuple[list[int], str | None]:
    chat_id = digest.request.target_chat
    ids: list[int] = []
    for index, part in enumerate(plan(digest, chart=png is not None)):
        send = (
            functools.partial(context.bot.send_photo, chat_id, png, caption=part.text)
            if part.photo and png is not None
            else functools.partial(context.bot.send_message, chat_id, part.text)
        )
        try:
            sent = await send_once(context, dataclasses.replace(key, part=index), send)
        except TelegramError as exc:
            log.warning("digest to %s failed: %s", chat_id, exc)
            await note_failure(context, chat_id, exc, update_id=update_id)
            return ids, failure_reason(exc, digest.request.language)
        ids.append(sent.message_id or 0)
    return ids, None
