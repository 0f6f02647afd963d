"""Campaign results from stored counts: per chat and combined, and their HTML rendering.

One campaign has one Telegram poll per chat. The options it was created with are matched
across chats by position (a chat may see them translated); options users added to a poll
are matched by their text. Everything is read from the kept counts, never from answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.texts import bar, bold, escape, gettext_for, percent
from storage import Store
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
    options: tuple[OptionTotal, ...]
    total_voters: int
    is_closed: bool


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
    polls = await store.counts_of(campaign_id)
    names = {p.poll.chat_id: await _chat_name(store, p.poll.chat_id) for p in polls}
    return combine(campaign, polls, names)


def combine(
    campaign: Campaign, polls: list[PollCounts], names: dict[int | None, str]
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
        chats.append(ChatResult(poll.poll.chat_id, names.get(poll.poll.chat_id, "?"),
                                poll.poll.poll_id, tuple(options), poll.poll.total_voters,
                                poll.poll.is_closed))
    total = sum(chat.total_voters for chat in chats)
    return CampaignResult(campaign, tuple(totals.values()), total, tuple(chats))


async def _chat_name(store: Store, chat_id: int | None) -> str:
    if chat_id is None:
        return "?"
    chat = await store.chat(chat_id)
    return chat.display if chat else str(chat_id)


def render_options(options: tuple[OptionTotal, ...], total_voters: int) -> list[str]:
    """One line per option: label, then a bar with percentage and count."""
    lines: list[str] = []
    for option in options:
        share = option.count / total_voters if total_voters else 0.0
        lines.append(escape(option.label))
        lines.append(f"<code>{bar(share)}</code> {percent(option.count, total_voters)}"
                     f" ({option.count})")
    return lines


def render_result(result: CampaignResult, language: str | None) -> str:
    """The /results message: question, bars, voters, leader, state, per-chat split."""
    _ = gettext_for(language)
    state = _("closed") if result.is_closed else _("open")
    lines = [f"📊 {bold(result.campaign.question)}",
             _("Poll #{id} · {state}").format(id=result.campaign.id, state=state), ""]
    lines += render_options(result.options, result.total_voters)
    lines.append("")
    lines.append(_("Voters: {n}").format(n=result.total_voters))
    leaders = result.leaders
    if leaders:
        names = ", ".join(escape(o.label) for o in leaders)
        lines.append((_("Leader: {names}") if len(leaders) == 1
                      else _("Tied: {names}")).format(names=names))
    if len(result.chats) > 1:
        lines += ["", bold(_("By chat"))]
        for chat in result.chats:
            top = max(chat.options, key=lambda o: o.count, default=None)
            lead = (f" · {escape(top.label)} {percent(top.count, chat.total_voters)}"
                    if top and top.count else "")
            lines.append(_("{chat}: {n} voters").format(chat=escape(chat.chat_name),
                                                        n=chat.total_voters) + lead)
    return "\n".join(lines)
