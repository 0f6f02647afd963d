"""Undo: ``/delete ID`` deletes a campaign's polls and article posts from every chat, and
what the bot posted about them there (the final result, the reminder).

Telegram lets a bot delete its own messages for 48 hours; what could not be deleted is
named chat by chat, with why. The campaign's results stay (``/export`` still has them); it
is marked deleted, so ``/polls`` shows it so and digests leave it out. Deleting again
(a replay, or a second /delete) is harmless: a message already gone counts as deleted.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext

from bot.admin.auth import admin_or_chat_admin, managed_campaign, manages_all
from bot.admin.chats import failure_reason
from bot.replies import reply_once
from bot.services import services
from bot.texts import N_, Gettext, escape, gettext_for, translate_plural
from storage.polls import Campaign, PollRecord

Context = CallbackContext[Any, Any, Any, Any]
DELETE_USAGE = N_("Send /delete POLL_ID (the number in /polls).")
DELETE_REFUSED = N_("Only the administrators of all its chats can delete poll #{id}.")


@admin_or_chat_admin
async def delete_campaign(update: Update, context: Context) -> None:
    """Delete a campaign's messages everywhere, keep its results, mark it deleted."""
    user = update.effective_user
    assert user is not None
    found = await managed_campaign(update, context, DELETE_USAGE, DELETE_REFUSED)
    if found is None:
        return
    campaign, polls = found
    _ = gettext_for(user.language_code)
    messages = await _messages(context, campaign, polls)
    if not await manages_all(context, user.id, messages):  # a chat that got only the post
        await reply_once(update, context, _(DELETE_REFUSED).format(id=campaign.id))
        return
    head = (
        _("Poll #{id} was already deleted; what was left was deleted again.")
        if campaign.is_deleted
        else _("Poll #{id} is deleted.")
    )
    lines = [head.format(id=campaign.id)]
    for chat_id, message_ids in messages.items():
        lines.append(await _delete_in(context, chat_id, message_ids, user.language_code))
    store = services(context).store
    if not campaign.is_deleted:
        await store.mark_campaign_deleted(campaign.id)
        await store.audit(user.id, "poll.delete", target=f"#{campaign.id}", detail="/delete")
    lines += ["", _("Its results are kept: /export {id}").format(id=campaign.id)]
    await reply_once(update, context, "\n".join(lines))


async def _messages(
    context: Context, campaign: Campaign, polls: list[PollRecord]
) -> dict[int, list[int]]:
    """Chat id -> the campaign's messages there: the article's parts, the poll, then its
    final result post and reminder."""
    store = services(context).store
    found: dict[int, list[int]] = {}
    for post in await store.posts_of_campaign(campaign.id):
        found.setdefault(post.chat_id, []).extend(post.message_ids)
    for poll in polls:
        if poll.chat_id is not None and poll.message_id is not None:
            found.setdefault(poll.chat_id, []).append(poll.message_id)
    for chat_id, message_id in await store.followup_messages(campaign.id):
        found.setdefault(chat_id, []).append(message_id)
    return found


async def _delete_in(
    context: Context, chat_id: int, message_ids: list[int], language: str | None
) -> str:
    """Delete these messages of one chat; a line saying how it went."""
    _ = gettext_for(language)
    reasons: list[str] = []
    for message_id in message_ids:
        reason = await _delete(context, chat_id, message_id, _, language)
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    chat = await services(context).store.chat(chat_id)
    name = f"{chat.display if chat else chat_id} ({chat_id})"
    if not reasons:
        done = translate_plural(
            language, "{n} message deleted", "{n} messages deleted", len(message_ids)
        )
        return f"• {escape(name)}: {escape(done)}"
    text = _("could not delete everything: {reasons}").format(reasons="; ".join(reasons))
    return f"• {escape(name)}: {escape(text)}"


async def _delete(
    context: Context, chat_id: int, message_id: int, _: Gettext, language: str | None
) -> str | None:
    """Delete one message; why not, if it could not be (a message already gone is done)."""
    try:
        await context.bot.delete_message(chat_id, message_id)
    except BadRequest as exc:
        text = exc.message.lower()
        if "not found" in text:
            return None
        if "for everyone" in text or "too old" in text:
            return _("older than 48 hours (Telegram lets a bot delete its messages only so long)")
        if "can't be deleted" in text or "rights" in text:
            return _("the bot has no right to delete messages there")
        return failure_reason(exc, language or "en")
    except Forbidden:
        return _("the bot was removed from this chat")
    except TelegramError as exc:
        return failure_reason(exc, language or "en")
    return None
