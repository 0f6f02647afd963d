"""``/repost ID [@chat…] [settings]``: a new campaign with the same question and options.

The chats default to those of the original campaign; settings are read by the /newpoll
parser (bot/polls/newpoll.py) and laid over the original's: what they do not name stays
(a quiz, multi, hide, desc...). A close date of the original, past by now, becomes the
same time after the new poll is posted, unless a new one (or a period) is given; the
answer says so. The new campaign goes through the same checks and the same preview as
/newpoll (``now`` skips the preview). A repost of an article's poll is a plain poll: in
the original's language, without the article (README says so).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

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
    found = await managed_campaign(update, context, REPOST_USAGE, REPOST_REFUSED, more_args=True)
    if found is None:
        return
    campaign, polls = found
    words, at_once = preview.skips_preview(context, list(context.args or [])[1:])
    original = campaigns.spec_of_record(dict(campaign.spec))
    refs, settings = split_targets(words)
    svc = services(context)
    if original.close_date is not None:  # the same time open as the original, from now
        lasted = original.close_date - datetime.fromtimestamp(campaign.created_at, UTC)
        original = dataclasses.replace(original, close_date=svc.clock.utc() + lasted)
    read = newpoll.with_settings(original, " ".join(settings), svc.config.bot.tz)
    spec = read.spec
    problems = [escape(p.render(user.language_code)) for p in read.problems]
    chats = [str(p.chat_id) for p in polls if p.chat_id is not None]
    targets, target_problems = await newpoll.check_targets(
        context, user.id, refs or chats, lambda _t: spec, user.language_code
    )
    problems += target_problems
    if problems:
        hint = _("Send /newpoll to see the settings.")
        await reply_once(update, context, newpoll.refusal(problems, _, hint))
        return
    if original.close_date is not None and spec.close_date == original.close_date:
        moved = _("Poll #{id} closed at a set time: the new one closes as long after it is "
                  "posted, at {when}.")  # fmt: skip
        when = spec.close_date.astimezone(svc.config.bot.tz).strftime("%Y-%m-%d %H:%M")
        await reply_once(update, context, escape(moved.format(id=campaign.id, when=when)),
                         what="repost-close")  # fmt: skip
    request = campaigns.Request("newpoll", spec, targets, lambda _t: spec)
    await campaigns.publish_or_preview(update, context, request, at_once)
