"""``/repost ID [@chat…] [settings]``: a new campaign with the same question and options.

The chats default to those of the original campaign; settings are read by the /newpoll
parser (bot/polls/newpoll.py) and replace the original's when given (without any, the
original's are kept, but a close date, past by now, is dropped). The new campaign goes
through the same checks and the same preview as /newpoll (``now`` skips the preview).
"""

from __future__ import annotations

import dataclasses

from telegram import Update
from telegram.ext import ContextTypes

from bot.admin.auth import admin_or_chat_admin, managed_campaign
from bot.admin.chats import split_targets
from bot.polls import campaigns, newpoll, preview
from bot.replies import reply_once
from bot.services import services
from bot.texts import N_, escape, gettext_for

REPOST_USAGE = N_(
    "Send /repost POLL_ID [@chat ...] [settings]: the same question and options as a new "
    "poll (the number is in /polls; settings as in /newpoll)."
)
REPOST_REFUSED = N_("Only the administrators of all its chats can repost poll #{id}.")


@admin_or_chat_admin
async def repost_poll(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make a new campaign of a campaign's question and options, after a preview."""
    user = update.effective_user
    assert user is not None
    _ = gettext_for(user.language_code)
    found = await managed_campaign(update, context, REPOST_USAGE, REPOST_REFUSED)
    if found is None:
        return
    campaign, polls = found
    words, at_once = preview.skips_preview(context, list(context.args or [])[1:])
    original = campaigns.spec_of_record(dict(campaign.spec))
    refs, settings = split_targets(words)
    if settings:
        tz = services(context).config.bot.tz
        read = newpoll.with_settings(original.question, original.options, " ".join(words), tz)
        spec = read.spec
        problems = [escape(p.render(user.language_code)) for p in read.problems]
    else:
        spec, problems = dataclasses.replace(original, close_date=None), []
    chats = [str(p.chat_id) for p in polls if p.chat_id is not None]
    targets, target_problems = await newpoll.check_targets(
        context, user.id, refs or chats, lambda _t: spec, user.language_code
    )
    problems += target_problems
    if problems:
        hint = _("Send /newpoll to see the settings.")
        await reply_once(update, context, newpoll.refusal(problems, _, hint))
        return
    request = campaigns.Request("newpoll", spec, targets, lambda _t: spec)
    await campaigns.publish_or_preview(update, context, request, at_once)
