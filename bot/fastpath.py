"""The vote fast path: ``poll`` and ``poll_answer`` updates decoded straight to store records.

Votes are nearly every update the bot gets. Building PTB objects and dispatching them
costs tens of microseconds each (bench/ingest.py, ``parse``); these msgspec Structs read
the same JSON in about one, into the records bot/polls/votes.py stores (``store_poll``,
``store_answer``: the one place either path turns a vote into store calls).

What the Structs accept, PTB 22.8 accepts too, and stores the same: they require what
Bot API 10.0 and PTB require of these objects (a Poll's ``allows_revoting`` and
``members_only``, a PollOption's ``persistent_id``, a PollAnswer's
``option_persistent_ids``), with JSON's exact types, and refuse any field PTB would
parse into something it could refuse (entities, media, a date out of range, the
deprecated ``correct_option_id``) or a name PTB's own constructors cannot take
(``api_kwargs``, ``self``). Everything else they refuse goes through PTB as before
(bot/pump.py), and to the dead letters if PTB refuses it too; tests/bot/test_fastpath.py
feeds both paths random votes and compares the databases.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from telegram.ext import CallbackContext

from bot.polls import votes
from bot.services import services
from storage.polls import PollState

# What SQLite's INTEGER holds: a count beyond it is PTB's to refuse (as a dead letter).
Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
# A Unix time that PTB turns into a datetime in any time zone, and back to the same int.
Timestamp = Annotated[int, Meta(ge=0, le=4_102_444_800)]  # 2100-01-01
Seconds = Annotated[int, Meta(ge=0, le=2**31)]
NoEntities = Annotated[list[Any], Meta(max_length=0)]  # custom emoji: PTB parses them


class _Object(msgspec.Struct, kw_only=True, gc=False):
    """A Telegram object: PTB passes its keys to a constructor, which takes neither of these."""

    api_kwargs: UnsetType = UNSET
    self_: UnsetType = msgspec.field(default=UNSET, name="self")


class User(_Object, kw_only=True, gc=False):
    id: int
    is_bot: bool
    first_name: str


class Chat(_Object, kw_only=True, gc=False):
    id: int
    type: str


class PollOption(_Object, kw_only=True, gc=False):
    persistent_id: str
    text: str
    voter_count: Int64
    text_entities: NoEntities | None = None
    media: None = None
    added_by_user: User | None = None
    added_by_chat: Chat | None = None
    addition_date: Timestamp | None = None


class Poll(_Object, kw_only=True, gc=False):
    id: str
    question: str
    options: list[PollOption]
    total_voter_count: Int64
    is_closed: bool
    is_anonymous: bool
    type: str
    allows_multiple_answers: bool
    allows_revoting: bool
    members_only: bool
    question_entities: NoEntities | None = None
    country_codes: list[str] | None = None
    correct_option_ids: list[int] | None = None
    correct_option_id: None = None  # deprecated: PTB warns
    explanation: str | None = None
    explanation_entities: NoEntities | None = None
    explanation_media: None = None
    description: str | None = None
    description_entities: NoEntities | None = None
    media: None = None
    open_period: Seconds | None = None
    close_date: Timestamp | None = None

    def state(self) -> PollState:
        """The storage record: the one mapping PTB's Poll goes through too."""
        return votes.state_of(self, self.close_date)


class PollAnswer(_Object, kw_only=True, gc=False):
    poll_id: str
    option_ids: list[int]
    option_persistent_ids: list[str]
    user: User | None = None
    voter_chat: Chat | None = None


class Update(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """A vote and nothing else: any other key (or both) is the PTB path's."""

    update_id: int
    poll: Poll | None = None
    poll_answer: PollAnswer | None = None


Vote = PollState | PollAnswer


def decode(raw: Any) -> Vote | None:
    """A ``poll`` update's state or a ``poll_answer``; None for anything else (PTB's)."""
    if not isinstance(raw, dict) or ("poll" not in raw and "poll_answer" not in raw):
        return None
    try:
        update = msgspec.convert(raw, Update)
    except msgspec.ValidationError:
        return None
    if update.poll is not None and update.poll_answer is None:
        return update.poll.state()
    if update.poll_answer is not None and update.poll is None:
        return update.poll_answer
    return None


async def store(context: CallbackContext[Any, Any, Any, Any], vote: Vote) -> None:
    """Store a decoded vote the one way votes are stored (bot/polls/votes.py)."""
    if isinstance(vote, PollState):
        await votes.store_poll(context, vote)
    else:
        await votes.store_answer(services(context), vote)
