"""Previews: what /post, /poll, /newpoll and /newarticle will publish, shown before it goes.

A command that passed its checks stores a draft (storage/drafts.py) and answers, in the
admin's private chat, with what will be sent (the post's parts as they will go out, the
poll rendered as text with its settings and close time) and where (each chat by name and
id, with a warning when this article or question went there before, and when), under the
buttons Publish and Cancel (and Schedule, for an article's post). bot/drafts/ handles the
press. A trailing word ``now`` or ``[bot] preview = false`` skips all this. Every message
here is sent once per update.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackContext

from bot.admin.chats import Target
from bot.polls.spec import PollSpec
from bot.replies import reply_with
from bot.services import services
from bot.texts import N_, Gettext, bold, escape, gettext_for, translate
from storage.drafts import PENDING, PUBLISHING, Draft

Context = CallbackContext[Any, Any, Any, Any]

DRAFT_TTL = 24 * 3600  # seconds: a draft older than this publishes nothing
NOW_WORD = "now"  # a trailing word that skips the preview
PUBLISH, CANCEL, SCHEDULE = "publish", "cancel", "schedule"
# The button labels are a contract (the issues name them): "Publish", "Schedule", "Cancel".
PUBLISH_LABEL, CANCEL_LABEL, SCHEDULE_LABEL = N_("Publish"), N_("Cancel"), N_("Schedule")
_CALLBACK = re.compile(r"^draft:(publish|cancel|schedule):(\d+)$")
CALLBACK_PATTERN = r"^draft:"


@dataclass(frozen=True, slots=True)
class Shown:
    """One message of a preview: text (HTML) and the buttons it will carry, if any."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    photo: str | bytes | None = None  # sent as a photo with ``text`` as its caption


# ---------------------------------------------------------------- the command's words


def skips_preview(context: Context, words: list[str]) -> tuple[list[str], bool]:
    """The words without a trailing ``now``, and whether to publish at once (``now``, or
    ``[bot] preview = false``)."""
    now = bool(words) and words[-1].casefold() == NOW_WORD
    rest = words[:-1] if now else words
    return rest, now or not services(context).config.bot.preview


def callback_data(action: str, draft_id: int) -> str:
    return f"draft:{action}:{draft_id}"


def parse_callback(data: str | None) -> tuple[str, int] | None:
    """(action, draft id) of a button press, None for anything else."""
    match = _CALLBACK.match(data or "")
    return None if match is None else (match.group(1), int(match.group(2)))


def buttons(
    draft_id: int, language: str | None, *, schedule: bool = False
) -> InlineKeyboardMarkup:
    """Publish (Schedule, for an article's post) and Cancel under a preview."""
    _ = gettext_for(language)
    actions = [(PUBLISH_LABEL, PUBLISH)]
    if schedule:
        actions.append((SCHEDULE_LABEL, SCHEDULE))
    actions.append((CANCEL_LABEL, CANCEL))
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_(label), callback_data=callback_data(action, draft_id))
                for label, action in actions
            ]
        ]
    )


def is_expired(draft: Draft, now: int) -> bool:
    return now - draft.created_at >= DRAFT_TTL


# ---------------------------------------------------------------- publishing


@dataclass(frozen=True, slots=True)
class Job:
    """What publishing a draft needs, stored with it when it goes to ``publishing``: the
    sends run apart from the update that asked (bot/drafts/publishing.py), and a start
    after a crash finishes them from this alone.

    ``origin`` keys every send in the ledger (``d<draft id>`` for a press of Publish,
    ``u<update id>`` for a command with ``now``); the admin's report goes to ``chat_id``
    (in reply to ``reply_to``) under the ledger's ``what``."""

    origin: str
    user_id: int
    language: str | None
    chat_id: int
    what: str
    targets: tuple[Target, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    update_id: int | None = None
    reply_to: int | None = None

    def record(self) -> dict[str, object]:
        """As JSON-able data, for the draft's row."""
        return {
            "origin": self.origin,
            "user_id": self.user_id,
            "language": self.language,
            "chat_id": self.chat_id,
            "what": self.what,
            "targets": [[t.chat_id, t.type, t.display, t.language] for t in self.targets],
            "skipped": [list(pair) for pair in self.skipped],
            "update_id": self.update_id,
            "reply_to": self.reply_to,
        }

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Job:
        """The job that ``record`` stored."""
        return cls(
            origin=str(record["origin"]),
            user_id=int(record["user_id"]),
            language=record.get("language"),
            chat_id=int(record["chat_id"]),
            what=str(record["what"]),
            targets=tuple(
                Target(int(c), str(t), str(d), str(lang)) for c, t, d, lang in record["targets"]
            ),
            skipped=tuple((str(ref), str(reason)) for ref, reason in record.get("skipped", [])),
            update_id=record.get("update_id"),
            reply_to=record.get("reply_to"),
        )


async def publish_at_once(
    update: Update,
    context: Context,
    draft: Draft,
    targets: Sequence[Target],
    *,
    what: str,
    skipped: Sequence[tuple[str, str]] = (),
) -> None:
    """Publish a command's draft without a preview (``now``, or previews off): the draft is
    marked ``publishing`` with the update's batch, and its sends go out apart from it, so
    the votes arriving meanwhile are not held up; the admin's report (``what``) answers the
    command when they are done. A replay of the command starts nothing new."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if draft.state not in (PENDING, PUBLISHING):
        return  # published already: a replay of a command handled to the end
    job = Job(
        origin=f"u{update.update_id}",
        user_id=user.id,
        language=user.language_code,
        chat_id=message.chat_id,
        what=what,
        targets=tuple(targets),
        skipped=tuple(skipped),
        update_id=update.update_id,
        reply_to=message.message_id,
    )
    svc = services(context)
    await svc.store.claim_draft(draft.id, user.id, job.record())
    svc.start_publishing(draft.id)


# ---------------------------------------------------------------- rendering


def moment(timestamp: int | datetime, timezone: tzinfo) -> str:
    """A time as the admin reads it: in the bot's time zone, with its name."""
    when = (
        timestamp
        if isinstance(timestamp, datetime)
        else datetime.fromtimestamp(timestamp, timezone)
    )
    return when.astimezone(timezone).strftime("%Y-%m-%d %H:%M %Z")


def render_poll(spec: PollSpec, language: str | None, timezone: tzinfo, now: datetime) -> str:
    """A poll as text: question, numbered options, each setting in words, the close time."""
    _ = gettext_for(language)
    lines = [bold(_("Poll: {question}").format(question=spec.question))]  # bold escapes
    lines += [f"{number}. {escape(text)}" for number, text in enumerate(spec.options, 1)]
    lines += [
        "",
        *(f"• {escape(line)}" for line in _settings(spec, _)),
        f"• {_closes(spec, _, timezone, now)}",
    ]
    return "\n".join(lines)


def _settings(spec: PollSpec, _: Gettext) -> list[str]:
    lines = [
        _("anonymous") if spec.is_anonymous else _("public: voters' names are shown"),
        _("several answers allowed") if spec.allows_multiple_answers else _("one answer"),
    ]
    if spec.quiz:
        right = ", ".join(str(i + 1) for i in sorted(set(spec.correct_option_ids)))
        lines.append(_("a quiz: the right answer is {numbers}").format(numbers=right))
        if spec.explanation:
            lines.append(_("explanation: {text}").format(text=spec.explanation))
    if spec.hide_results_until_closes:
        lines.append(_("results hidden until the poll closes"))
    if spec.shuffle_options:
        lines.append(_("options in random order"))
    if spec.allow_adding_options:
        lines.append(_("voters may add options"))
    if not spec.allows_revoting:
        lines.append(_("voters cannot change their vote"))
    if spec.description:
        lines.append(_("description: {text}").format(text=spec.description))
    if spec.members_only:
        lines.append(_("only channel members of more than a day may vote"))
    if spec.country_codes:
        lines.append(_("only voters from {codes}").format(codes=", ".join(spec.country_codes)))
    if not spec.final_post:
        lines.append(_("no final result post when it closes"))
    if spec.remind_before:
        lines.append(
            _("a reminder {period} before it closes").format(period=_period(spec.remind_before, _))
        )
    elif spec.remind_before == 0:
        lines.append(_("no reminder before it closes"))
    return lines


def _closes(spec: PollSpec, _: Gettext, timezone: tzinfo, now: datetime) -> str:
    if spec.close_date is not None:
        return escape(_("closes {time}").format(time=moment(spec.close_date, timezone)))
    if spec.open_period is not None:
        until = moment(now + timedelta(seconds=spec.open_period), timezone)
        text = _("open for {period} after it is published (until {time} if published now)")
        return escape(text.format(period=_period(spec.open_period, _), time=until))
    return escape(_("no close time: open until /close"))


# The units of a period as /newpoll reads them, in each language ("2d 3h", "2д 3ч").
_UNITS = ((86400, N_("{n}d")), (3600, N_("{n}h")), (60, N_("{n}m")))


def _period(seconds: int, _: Gettext) -> str:
    """2d 3h 5m, as /newpoll writes it (in the reader's language)."""
    parts: list[str] = []
    rest = seconds
    for size, unit in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(_(unit).format(n=count))
    return " ".join(parts) or _("{n}s").format(n=rest)


def by_language(targets: Sequence[Target]) -> dict[str, list[Target]]:
    """The targets grouped by the language they get, in their order."""
    groups: dict[str, list[Target]] = {}
    for target in targets:
        groups.setdefault(target.language, []).append(target)
    return groups


def poll_shown(
    context: Context,
    targets: Sequence[Target],
    spec_for: Callable[[Target], PollSpec],
    language: str | None,
) -> list[Shown]:
    """The poll as each language's chats will get it (one message per language)."""
    svc = services(context)
    now = datetime.fromtimestamp(svc.clock.seconds(), svc.config.bot.tz)
    groups = by_language(targets)
    return [
        Shown(
            for_chats(group, len(groups), language)
            + render_poll(spec_for(group[0]), language, svc.config.bot.tz, now)
        )
        for group in groups.values()
    ]


def for_chats(group: Sequence[Target], groups: int, language: str | None) -> str:
    """With several languages, a line saying which chats a part of the preview is for."""
    if groups < 2:
        return ""
    chats = ", ".join(t.display for t in group)
    return escape(translate(language, N_("For {chats}:"), chats=chats)) + "\n"


# ---------------------------------------------------------------- offering


async def target_lines(
    context: Context, targets: Sequence[Target], before: dict[int, int], language: str | None
) -> list[str]:
    """Each target by name and id, with a warning when this went there before (and when)."""
    svc = services(context)
    _ = gettext_for(language)
    lines: list[str] = []
    for target in targets:
        chat = await svc.store.chat(target.chat_id)
        title = chat.title if chat and chat.title else None
        name = (
            f"{title} ({target.display})" if title and title != target.display else target.display
        )
        where = _("{chat}, id {id}").format(chat=escape(name), id=f"<code>{target.chat_id}</code>")
        lines.append(f"• {where}")
        if target.chat_id in before:
            when = moment(before[target.chat_id], svc.config.bot.tz)
            warning = _("⚠️ already sent there on {time}").format(time=when)
            lines.append(f"  {escape(warning)}")
    return lines


async def offer(
    update: Update,
    context: Context,
    draft: Draft,
    shown: Sequence[Shown],
    where: Sequence[str],
    *,
    skipped: Sequence[str] = (),
    schedule: bool = False,
    notes: Sequence[str] = (),
) -> None:
    """Send the preview: what will go out, then where, with Publish (Schedule) and Cancel;
    ``notes`` (HTML lines) say what else the admin may do."""
    user = update.effective_user
    language = user.language_code if user else None
    _ = gettext_for(language)
    head = _("Preview of draft #{id}: nothing is sent until you press Publish.").format(
        id=draft.id
    )
    parts = [Shown(bold(escape(head))), *shown]
    lines = [bold(escape(_("It will go to:"))), *where]
    if skipped:
        lines += ["", escape(_("Left out:")), *(f"• {line}" for line in skipped)]
    lines += ["", escape(_("The draft expires in 24 hours.")), *notes]
    parts.append(Shown("\n".join(lines), buttons(draft.id, language, schedule=schedule)))
    for index, part in enumerate(parts):
        await reply_with(update, context, "preview", _sender(part), part=index)


def _sender(part: Shown) -> Callable[[Message], Any]:
    return functools.partial(_reply, part)


async def _reply(part: Shown, message: Message) -> Message:
    if part.photo is not None:
        return await message.reply_photo(part.photo, caption=part.text, reply_markup=part.markup)
    return await message.reply_text(part.text, reply_markup=part.markup)
