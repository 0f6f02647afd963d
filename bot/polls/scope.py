"""What a chat may see of the results: the one rule every message with results follows.

/results, /polls and digests (text and chart) all pass a campaign's result through
``scoped`` (or ``views``) with the ``Audience`` of the chat the message goes to:

- a channel or group sees only campaigns with a poll in that very chat, with that chat's
  own counts, in the question and option texts as posted there; never another chat's
  name, question or counts, and no per-chat split;
- the bot's admins, in their private chat, see the combined result and the per-chat
  split; a chat's own administrators (not bot admins) see the same, limited to the chats
  they administer;
- any other user, in a private chat, sees only chats anyone can open (with a public
  @username), each chat's result on its own, never combined, never a private group;
- a poll whose results are hidden until it closes shows no count anywhere before it
  closes (the private admin view says how many voted so far).

Combined texts follow the reader: a poll posted in the reader's language if there is
one, else the campaign's original.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from telegram import Chat

from bot.admin.auth import chat_admins
from bot.feature import Context
from bot.polls.results import CampaignResult, ChatResult, OptionTotal
from bot.services import services
from bot.texts import normalize_language
from storage.chats import ChatRecord

SHARED_CHATS = (Chat.CHANNEL, Chat.GROUP, Chat.SUPERGROUP)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads a message: which chats' polls it may show, and how."""

    language: str
    chats: frozenset[int] | None  # the chats whose polls may be shown; None: every chat
    admin: bool  # the private admin view: combined results, the per-chat split
    default_language: str = "en"  # of a chat without a language of its own

    def may_show(self, chat: ChatResult) -> bool:
        if chat.chat_id is None:
            return False
        return self.chats is None or chat.chat_id in self.chats


def for_chat(chat_id: int, language: str) -> Audience:
    """A message in a channel or group (or one private chat's own digest, for a
    non-admin): that chat's polls only."""
    return Audience(language, frozenset({chat_id}), admin=False)


async def for_user(
    context: Context, user_id: int, language: str | None, among: Iterable[int]
) -> Audience:
    """A private chat with ``user_id``, about campaigns posted in the chats ``among``."""
    svc = services(context)
    default = svc.config.bot.language
    wanted = normalize_language(language, default)
    if svc.is_admin(user_id):
        return Audience(wanted, None, admin=True, default_language=default)
    candidates = sorted({chat_id for chat_id in among if chat_id < 0})
    managed = frozenset([c for c in candidates if user_id in await chat_admins(context, c)])
    if managed:
        return Audience(wanted, managed, admin=True, default_language=default)
    public = frozenset([c for c in candidates if _is_public(await svc.store.chat(c))])
    return Audience(wanted, public, admin=False, default_language=default)


def _is_public(chat: ChatRecord | None) -> bool:
    return chat is not None and chat.type in SHARED_CHATS and bool(chat.username)


def scoped(result: CampaignResult, audience: Audience) -> CampaignResult | None:
    """The part of ``result`` this audience may see, totals recomputed over those chats;
    None when it may see none of the campaign's chats. A non-admin audience seeing several
    chats gets them combined here: use ``views`` to keep each chat on its own."""
    chats = tuple(chat for chat in result.chats if audience.may_show(chat))
    if not chats:
        return None
    if len(chats) == 1:
        return _one_chat(result, chats[0])
    source = next((c for c in chats if _language(c, audience) == audience.language), None)
    labels = {o.key: o.label for o in source.options} if source else {}
    totals: dict[str, OptionTotal] = {}
    for key, label in ((o.key, o.label) for o in result.options):
        if key.startswith("#"):
            totals[key] = OptionTotal(key, labels.get(key, label), 0)
    for chat in chats:
        for option in chat.options:
            known = totals.get(option.key) or OptionTotal(option.key, option.label, 0)
            totals[option.key] = replace(known, count=known.count + option.count)
    question = source.question if source and source.question else result.campaign.question
    return CampaignResult(
        result.campaign,
        tuple(totals.values()),
        sum(chat.total_voters for chat in chats),
        chats,
        question,
    )


def _language(chat: ChatResult, audience: Audience) -> str:
    return chat.language or audience.default_language


def _one_chat(result: CampaignResult, chat: ChatResult) -> CampaignResult:
    """One chat's result as that chat saw it: its question, its options, its counts."""
    return CampaignResult(
        result.campaign,
        chat.options,
        chat.total_voters,
        (chat,),
        chat.question or result.campaign.question,
    )


def views(result: CampaignResult, audience: Audience) -> list[CampaignResult]:
    """What this audience may see of a campaign, as results to show one after another:
    combined for the admin view, else each visible chat on its own."""
    if audience.admin:
        seen = scoped(result, audience)
        return [] if seen is None else [seen]
    return [_one_chat(result, chat) for chat in result.chats if audience.may_show(chat)]
