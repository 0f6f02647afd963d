"""Campaign results from stored counts: per chat and combined, their HTML, /polls and /results.

One campaign has one Telegram poll per chat. The options it was created with are matched
across chats by position (a chat may see them translated); options users added to a poll
are matched by their text. Everything is read from the kept counts, never from answers, so
a result costs the same at a hundred votes and at a million.

Admins (and the administrators of a campaign's chats) see any result anywhere; subscribers
may ask in a private chat for the results of polls the bot posted publicly, a few times a
minute (``[bot] results_per_minute``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from telegram import Chat, Update
from telegram.constants import MessageLimit
from telegram.ext import CallbackContext, ContextTypes

from bot.admin.auth import admin_or_chat_admin, campaign_id_arg, manages_any
from bot.replies import reply_once
from bot.services import Services, services
from bot.texts import N_, bar, bold, escape, gettext_for, percent, shorten, translate_plural
from storage import Store
from storage.chats import ChatRecord
from storage.polls import Campaign, CampaignSummary, OptionCount, PollCounts

Context = CallbackContext[Any, Any, Any, Any]
RECENTLY_CLOSED = 7 * 86400  # /polls lists campaigns closed this recently
PUBLIC_CHAT_TYPES = frozenset({Chat.CHANNEL, Chat.GROUP, Chat.SUPERGROUP})
USAGE = N_("Send /results or /results POLL_ID (the number in /polls).")


@dataclass(frozen=True, slots=True)
class OptionTotal:
    key: str  # "#<position>" for the campaign's own options, "+<text>" for added ones
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class ChatResult:
    chat_id: int | None
    chat_name: str
    poll_id: str
    options: tuple[OptionTotal, ...]
    total_voters: int
    is_closed: bool
    chat_type: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign: Campaign
    options: tuple[OptionTotal, ...]
    total_voters: int
    chats: tuple[ChatResult, ...]

    @property
    def is_closed(self) -> bool:
        return self.campaign.is_closed or (
            bool(self.chats) and all(chat.is_closed for chat in self.chats)
        )

    @property
    def leaders(self) -> tuple[OptionTotal, ...]:
        """The option(s) with the most votes; none while nobody voted."""
        top = max((option.count for option in self.options), default=0)
        return tuple(o for o in self.options if o.count == top) if top > 0 else ()

    @property
    def hides_results(self) -> bool:
        """Voters cannot see the counts until the poll closes (Bot API 9.6 setting)."""
        return bool(self.campaign.spec.get("hide_results_until_closes"))

    @property
    def is_public(self) -> bool:
        """Posted in a channel or group, with counts voters can already see there."""
        posted = any(chat.chat_type in PUBLIC_CHAT_TYPES for chat in self.chats)
        return posted and (self.is_closed or not self.hides_results)

    def count_of(self, key: str) -> int:
        return next((o.count for o in self.options if o.key == key), 0)


def option_key(option: OptionCount, originals: int) -> str:
    if option.position < originals:
        return f"#{option.position}"
    return "+" + " ".join(option.text.casefold().split())


async def campaign_result(store: Store, campaign_id: int) -> CampaignResult | None:
    """The current result of a campaign, or None if there is no such campaign."""
    campaign = await store.campaign(campaign_id)
    if campaign is None:
        return None
    return await combined(store, campaign, await store.counts_of(campaign_id))


async def combined(
    store: Store,
    campaign: Campaign,
    polls: list[PollCounts],
    seen: dict[int | None, ChatRecord | None] | None = None,
) -> CampaignResult:
    """A campaign's result from counts already read, each chat named as it is stored.

    ``seen`` keeps the chats looked up, for a caller that combines several campaigns."""
    chats = {} if seen is None else seen
    for poll in polls:
        chat_id = poll.poll.chat_id
        if chat_id not in chats:
            chats[chat_id] = await store.chat(chat_id) if chat_id is not None else None
    names = {i: chat.display if chat else str(i) if i else "?" for i, chat in chats.items()}
    types = {i: chat.type for i, chat in chats.items() if chat is not None}
    return combine(campaign, polls, names, types)


def combine(
    campaign: Campaign,
    polls: list[PollCounts],
    names: dict[int | None, str],
    types: dict[int | None, str] | None = None,
) -> CampaignResult:
    """Per-chat results and their sum, options in the campaign's order then added ones."""
    originals = len(campaign.options)
    totals: dict[str, OptionTotal] = {
        f"#{i}": OptionTotal(f"#{i}", text, 0) for i, text in enumerate(campaign.options)
    }
    chats: list[ChatResult] = []
    for poll in polls:
        options: list[OptionTotal] = []
        for option in poll.options:
            key = option_key(option, originals)
            options.append(OptionTotal(key, option.text, option.voter_count))
            known = totals.get(key) or OptionTotal(key, option.text, 0)
            totals[key] = OptionTotal(key, known.label, known.count + option.voter_count)
        chat_id = poll.poll.chat_id
        chats.append(
            ChatResult(
                chat_id,
                names.get(chat_id, "?"),
                poll.poll.poll_id,
                tuple(options),
                poll.poll.total_voters,
                poll.poll.is_closed,
                (types or {}).get(chat_id),
            )
        )
    total = sum(chat.total_voters for chat in chats)
    return CampaignResult(campaign, tuple(totals.values()), total, tuple(chats))


# ---------------------------------------------------------------- rendering


def render_options(
    options: tuple[OptionTotal, ...], total_voters: int, *, numbered: bool = False
) -> list[str]:
    """Two lines per option: its label, then a bar with percentage and count."""
    lines: list[str] = []
    for number, option in enumerate(options, start=1):
        share = option.count / total_voters if total_voters else 0.0
        lines.append(f"{number}. {escape(option.label)}" if numbered else escape(option.label))
        lines.append(
            f"<code>{bar(share)}</code> {percent(option.count, total_voters)} ({option.count})"
        )
    return lines


def render_result(result: CampaignResult, language: str | None) -> str:
    """The /results message: question, bars, voters, leader, state, per-chat split."""
    _ = gettext_for(language)
    state = _("closed") if result.is_closed else _("open")
    lines = [
        f"📊 {bold(result.campaign.question)}",
        _("Poll #{id} · {state}").format(id=result.campaign.id, state=state),
        "",
    ]
    lines += render_options(result.options, result.total_voters, numbered=True)
    lines.append("")
    lines.append(_("Voters: {n}").format(n=result.total_voters))
    leaders = result.leaders
    if leaders:
        names = ", ".join(escape(o.label) for o in leaders)
        lines.append(
            (_("Leader: {names}") if len(leaders) == 1 else _("Tied: {names}")).format(names=names)
        )
    if result.hides_results and not result.is_closed:
        lines.append(_("Voters see these results only when the poll closes."))
    head = "\n".join(lines)
    if len(result.chats) < 2:
        return head
    detailed = "\n".join([head, "", bold(_("By chat")), *_chat_lines(result, language, True)])
    if len(detailed) <= MessageLimit.MAX_TEXT_LENGTH:
        return detailed
    return "\n".join([head, "", bold(_("By chat")), *_chat_lines(result, language, False)])


def _chat_lines(result: CampaignResult, language: str | None, detailed: bool) -> list[str]:
    """Per chat: its voters, then each option's count by the option's number above."""
    _ = gettext_for(language)
    numbers = {option.key: number for number, option in enumerate(result.options, start=1)}
    lines: list[str] = []
    for chat in result.chats:
        line = translate_plural(
            language,
            "{chat}: {n} voter",
            "{chat}: {n} voters",
            chat.total_voters,
            chat=escape(chat.chat_name),
        )
        if chat.is_closed and not result.is_closed:
            line += " · " + _("closed")
        lines.append(line)
        if detailed:
            counts = sorted((numbers.get(o.key, 0), o.count) for o in chat.options)
            lines.append("   " + " · ".join(f"{number}) {count}" for number, count in counts))
    return lines


def render_overview(summaries: list[CampaignSummary], language: str | None) -> str:
    """The /polls message: one line per campaign, newest first."""
    _ = gettext_for(language)
    if not summaries:
        return _("No polls yet. Create one with /newpoll or /poll.")
    lines = [bold(_("Polls")), ""]
    for item in summaries:
        state = (
            _("deleted")
            if item.campaign.is_deleted
            else _("closed")
            if item.campaign.is_closed
            else _("open")
        )
        lines.append(
            translate_plural(
                language,
                "#{id} · {state} · {n} voter — {question}",
                "#{id} · {state} · {n} voters — {question}",
                item.voters,
                id=item.campaign.id,
                state=state,
                question=escape(shorten(item.campaign.question, 80)),
            )
        )
    lines += ["", _("Details: /results POLL_ID · close: /close POLL_ID")]
    return "\n".join(lines)


# ---------------------------------------------------------------- replying


def rate_wait(svc: Services, user_id: int) -> int:
    """Seconds before this user may ask for results again (0: now; this ask is counted)."""
    moment = time.monotonic()
    recent = [t for t in svc.results_requests.get(user_id, []) if moment - t < 60]
    if len(recent) >= svc.config.bot.results_per_minute:
        svc.results_requests[user_id] = recent
        return max(1, math.ceil(60 - (moment - recent[0])))
    svc.results_requests[user_id] = [*recent, moment]
    if len(svc.results_requests) > 10_000:  # forget users who stopped asking
        for stale in [u for u, times in svc.results_requests.items() if moment - times[-1] > 60]:
            del svc.results_requests[stale]
    return 0


# ---------------------------------------------------------------- handlers


@admin_or_chat_admin
async def list_polls(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List open and recently closed campaigns with their id, state and voters."""
    user = update.effective_user
    assert user is not None
    svc = services(context)
    since = svc.clock.seconds() - RECENTLY_CLOSED
    summaries = await svc.store.campaign_overview(closed_since=since)
    if not svc.is_admin(user.id):
        summaries = [s for s in summaries if await manages_any(context, user.id, list(s.chat_ids))]
    await reply_once(update, context, render_overview(summaries, user.language_code))


async def show_results(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a campaign's result: admins anywhere, subscribers in private for public polls."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or update.effective_message is None:
        return
    svc = services(context)
    _ = gettext_for(user.language_code)
    privileged = svc.is_admin(user.id)
    if not privileged and (wait := rate_wait(svc, user.id)):
        await reply_once(
            update, context, _("Too many requests: try again in {seconds} s.").format(seconds=wait)
        )
        return
    text = await _results_text(
        context, user.id, chat.type == Chat.PRIVATE, context.args, user.language_code
    )
    await reply_once(update, context, text)


async def _results_text(
    context: Context, user_id: int, private: bool, args: list[str] | None, language: str | None
) -> str:
    svc = services(context)
    _ = gettext_for(language)
    wanted = campaign_id_arg(args)
    if args and wanted is None:
        return _(USAGE)
    result = await (
        campaign_result(svc.store, wanted)
        if wanted is not None
        else _latest(svc, public_only=not svc.is_admin(user_id))
    )
    if result is None:
        return _("No poll #{id}.").format(id=wanted) if wanted else _("No polls yet.")
    chat_ids = [c.chat_id for c in result.chats if c.chat_id is not None]
    if not await manages_any(context, user_id, chat_ids):
        if not private:
            return _("Ask me for results in a private chat.")
        if not result.is_public:
            return (
                _("The results of poll #{id} are hidden until it closes.")
                if result.hides_results and result.chats
                else _("The results of poll #{id} are not public.")
            ).format(id=result.campaign.id)
    return render_result(result, language)


async def _latest(svc: Services, *, public_only: bool) -> CampaignResult | None:
    """The most recent campaign (for a subscriber: the most recent public one)."""
    store = svc.store
    for campaign in await store.campaigns(closed_since=0, limit=20):
        result = await combined(store, campaign, await store.counts_of(campaign.id))
        if result.is_public or not public_only:
            return result
    return None
