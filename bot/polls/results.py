"""Campaign results from stored counts: per chat and combined, and their HTML.

One campaign has one Telegram poll per chat. The options it was created with are matched
across chats by position (a chat may see them translated); options users added to a poll
are matched by their text. Everything is read from the kept counts, never from answers, so
a result costs the same at a hundred votes and at a million. Which part of a result a chat
may see is bot/polls/scope.py; /polls and /results are bot/polls/reading.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from telegram.constants import MessageLimit

from bot.texts import (
    N_,
    bar,
    bold,
    escape,
    gettext_for,
    share_of,
    shares,
    shorten,
    translate,
    translate_plural,
    votes_in_chats,
)
from storage import Store
from storage.chats import ChatRecord
from storage.polls import Campaign, OptionCount, PollCounts


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
    options: tuple[OptionTotal, ...]  # labelled as posted in this chat
    total_voters: int
    is_closed: bool
    chat_type: str | None = None
    question: str = ""  # as posted in this chat
    language: str | None = None  # the chat's language, None for the bot's default


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign: Campaign
    options: tuple[OptionTotal, ...]
    total_voters: int
    chats: tuple[ChatResult, ...]
    question: str  # in the language of whoever reads it (bot/polls/scope.py picks it)

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
    def hidden(self) -> bool:
        """No count may be shown yet: results hidden until the close, and not closed."""
        return self.hides_results and not self.is_closed

    @property
    def multiple(self) -> bool:
        """Voters may choose several options: shares are of voters, not of votes."""
        return bool(self.campaign.spec.get("allows_multiple_answers"))

    @property
    def correct_keys(self) -> frozenset[str]:
        """A quiz's correct options, once it closed (before that they are a secret)."""
        if not self.campaign.spec.get("quiz") or not self.is_closed:
            return frozenset()
        ids = self.campaign.spec.get("correct_option_ids")
        if not isinstance(ids, list | tuple):
            return frozenset()
        return frozenset(f"#{i}" for i in ids if isinstance(i, int))

    def count_of(self, key: str) -> int:
        return next((o.count for o in self.options if o.key == key), 0)

    def shares(self) -> list[str]:
        """Each option's share as shown: of all votes (adding up to 100%), or of voters."""
        counts = [option.count for option in self.options]
        return shares(counts, self.total_voters, multiple=self.multiple)


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
    return combine(campaign, polls, {i: chat for i, chat in chats.items() if chat is not None})


def combine(
    campaign: Campaign, polls: list[PollCounts], chats: dict[int | None, ChatRecord]
) -> CampaignResult:
    """Per-chat results and their sum, options in the campaign's order then added ones,
    labelled in the campaign's own language."""
    originals = len(campaign.options)
    totals: dict[str, OptionTotal] = {
        f"#{i}": OptionTotal(f"#{i}", text, 0) for i, text in enumerate(campaign.options)
    }
    results: list[ChatResult] = []
    for poll in polls:
        options: list[OptionTotal] = []
        for option in poll.options:
            key = option_key(option, originals)
            options.append(OptionTotal(key, option.text, option.voter_count))
            known = totals.get(key) or OptionTotal(key, option.text, 0)
            totals[key] = OptionTotal(key, known.label, known.count + option.voter_count)
        results.append(_chat_result(poll, tuple(options), chats.get(poll.poll.chat_id)))
    total = sum(chat.total_voters for chat in results)
    return CampaignResult(
        campaign, tuple(totals.values()), total, tuple(results), campaign.question
    )


def _chat_result(
    poll: PollCounts, options: tuple[OptionTotal, ...], chat: ChatRecord | None
) -> ChatResult:
    chat_id = poll.poll.chat_id
    return ChatResult(
        chat_id,
        chat.display if chat else str(chat_id) if chat_id else "?",
        poll.poll.poll_id,
        options,
        poll.poll.total_voters,
        poll.poll.is_closed,
        chat.type if chat else None,
        poll.poll.question,
        chat.language if chat else None,
    )


# ---------------------------------------------------------------- rendering

CORRECT = "✅"  # marks a closed quiz's right answer


def option_lines(
    result: CampaignResult,
    language: str | None,
    *,
    numbered: bool = False,
    change: Callable[[OptionTotal], str] | None = None,
) -> list[str]:
    """Two lines per option: its label, then a bar with its share and count (and the
    ``change`` since a previous digest); for a multiple-answer poll, what the shares mean."""
    whole = result.total_voters if result.multiple else sum(o.count for o in result.options)
    correct = result.correct_keys
    lines: list[str] = []
    for number, (option, share) in enumerate(zip(result.options, result.shares(), strict=True), 1):
        label = escape(option.label) + (f" {CORRECT}" if option.key in correct else "")
        lines.append(f"{number}. {label}" if numbered else label)
        extra = change(option) if change else ""
        lines.append(
            f"<code>{bar(share_of(option.count, whole))}</code> {share} ({option.count}{extra})"
        )
    if result.multiple:
        lines.append(translate(language, SHARES_OF_VOTERS))
    return lines


SHARES_OF_VOTERS = N_("Shares are of voters, and each voter may choose several options.")


def voters_text(result: CampaignResult, language: str | None) -> str:
    """ "3 voters", or over several chats "5 votes in 2 chats" (a person counted per chat)."""
    if len(result.chats) > 1:
        votes = votes_in_chats(language, result.total_voters, len(result.chats))
        return (
            votes
            + " "
            + translate(language, N_("(a person who voted in several counts once in each)"))
        )
    return translate_plural(language, "{n} voter", "{n} voters", result.total_voters)


def hidden_text(result: CampaignResult, language: str | None, *, admin: bool) -> str:
    """What a result hidden until the close says instead of counts."""
    if admin:
        return translate_plural(
            language,
            "Results hidden until the poll closes: {n} voter so far.",
            "Results hidden until the poll closes: {n} voters so far.",
            result.total_voters,
        )
    return translate(language, "Results hidden until the poll closes.")


def state_text(result: CampaignResult, language: str | None) -> str:
    """ "Poll #3 · open", with the chat's name when the result is one chat's."""
    _ = gettext_for(language)
    state = _("closed") if result.is_closed else _("open")
    text = _("Poll #{id} · {state}").format(id=result.campaign.id, state=state)
    return text + (f" · {escape(result.chats[0].chat_name)}" if len(result.chats) == 1 else "")


def render_result(
    result: CampaignResult, language: str | None, *, admin: bool = True, final: bool = False
) -> str:
    """The /results message: question, bars, voters, leader, state; the per-chat split
    for the admin view only (``result`` already scoped: bot/polls/scope.py). ``final``: the
    final result post of a closed poll, which names its winner."""
    _ = gettext_for(language)
    lines = [f"📊 {bold(result.question)}", state_text(result, language), ""]
    if final:
        lines.insert(0, "🏁 " + bold(_("Final result")))
    if result.hidden:
        return "\n".join([*lines, hidden_text(result, language, admin=admin)])
    lines += option_lines(result, language, numbered=True)
    lines += ["", voters_text(result, language)]
    leaders = result.leaders
    if leaders:
        names = ", ".join(escape(o.label) for o in leaders)
        if final:
            line = _("Winner: {names}") if len(leaders) == 1 else _("A tie between: {names}")
        else:
            line = _("Leader: {names}") if len(leaders) == 1 else _("Tied: {names}")
        lines.append(line.format(names=names))
    head = "\n".join(lines)
    if not admin or len(result.chats) < 2:
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


def overview_line(result: CampaignResult, language: str | None, *, admin: bool) -> str:
    """One /polls line: id, state, voters (or "hidden"), question, and the chats."""
    _ = gettext_for(language)
    campaign = result.campaign
    state = _("deleted") if campaign.is_deleted else _("closed") if result.is_closed else _("open")
    chats = ", ".join(escape(chat.chat_name) for chat in result.chats)
    question = escape(shorten(result.question, 80))
    if result.hidden and not admin:
        return _("#{id} · {state} · results hidden — {question} · {chats}").format(
            id=result.campaign.id, state=state, question=question, chats=chats
        )
    return translate_plural(
        language,
        "#{id} · {state} · {n} voter — {question} · {chats}",
        "#{id} · {state} · {n} voters — {question} · {chats}",
        result.total_voters,
        id=result.campaign.id,
        state=state,
        question=question,
        chats=chats,
    )


def render_overview(lines: list[str], language: str | None) -> str:
    """The /polls message: one line per campaign, newest first."""
    _ = gettext_for(language)
    if not lines:
        return _("No polls yet. Create one with /newpoll or /poll.")
    body = [bold(_("Polls")), "", *lines]
    return "\n".join([*body, "", _("Details: /results POLL_ID · close: /close POLL_ID")])
