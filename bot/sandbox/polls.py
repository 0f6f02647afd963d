"""Native polls: sendPoll checks, poll state with counts kept on write, votes and closing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import ControlError, bad_request
from bot.sandbox.markup import format_text
from bot.sandbox.models import JSON, User

MAX_OPTIONS = 12
MAX_OPTION_LENGTH = 100
MAX_PERIOD = 2_628_000
MIN_PERIOD = 5


@dataclass(slots=True)
class OptionState:
    """One answer option; `persistent_id` stays the same when options are added."""

    persistent_id: str
    text: str
    text_entities: list[JSON] = field(default_factory=list)
    voter_count: int = 0
    added_by: User | None = None
    addition_date: int | None = None

    def to_api(self) -> JSON:
        data: JSON = {"persistent_id": self.persistent_id, "text": self.text}
        if self.text_entities:
            data["text_entities"] = self.text_entities
        data["voter_count"] = self.voter_count
        if self.added_by is not None:
            data["added_by_user"] = self.added_by.to_api()
            data["addition_date"] = self.addition_date
        return data


@dataclass(slots=True)
class PollState:
    """A poll the bot sent, with every voter's current choice."""

    id: str
    question: str
    options: list[OptionState]
    type: str = "regular"
    is_anonymous: bool = True
    allows_multiple_answers: bool = False
    allows_revoting: bool = True
    allow_adding_options: bool = False
    hide_results_until_closes: bool = False
    shuffle_options: bool = False
    members_only: bool = False
    question_entities: list[JSON] = field(default_factory=list)
    country_codes: list[str] = field(default_factory=list)
    correct_option_ids: list[int] = field(default_factory=list)
    explanation: str | None = None
    explanation_entities: list[JSON] = field(default_factory=list)
    description: str | None = None
    description_entities: list[JSON] = field(default_factory=list)
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    chat_id: int = 0
    message_id: int = 0
    message_deleted: bool = False
    votes: dict[int, tuple[int, ...]] = field(default_factory=dict)  # only non-empty choices

    def to_api(self, in_message: bool = False) -> JSON:
        """The Bot API Poll (description only inside a Message, as Telegram documents)."""
        data: JSON = {"id": self.id, "question": self.question}
        if self.question_entities:
            data["question_entities"] = self.question_entities
        data.update(
            options=[option.to_api() for option in self.options],
            total_voter_count=len(self.votes),
            is_closed=self.is_closed,
            is_anonymous=self.is_anonymous,
            type=self.type,
            allows_multiple_answers=self.allows_multiple_answers,
            allows_revoting=self.allows_revoting,
            members_only=self.members_only,
        )
        if self.country_codes:
            data["country_codes"] = self.country_codes
        if self.type == "quiz":
            data["correct_option_ids"] = self.correct_option_ids
        if self.explanation:
            data["explanation"] = self.explanation
            if self.explanation_entities:
                data["explanation_entities"] = self.explanation_entities
        if self.open_period is not None:
            data["open_period"] = self.open_period
        if self.close_date is not None:
            data["close_date"] = self.close_date
        if in_message and self.description:
            data["description"] = self.description
            if self.description_entities:
                data["description_entities"] = self.description_entities
        return data

    def sandbox_info(self) -> JSON:
        """The Bot API poll plus what only the sandbox knows: chat, votes, settings."""
        return {
            **self.to_api(in_message=True),
            "sandbox": {
                "chat_id": self.chat_id,
                "message_id": self.message_id,
                "counts": [option.voter_count for option in self.options],
                "votes": {str(voter): list(ids) for voter, ids in self.votes.items()},
                "allow_adding_options": self.allow_adding_options,
                "hide_results_until_closes": self.hide_results_until_closes,
                "shuffle_options": self.shuffle_options,
                "message_deleted": self.message_deleted,
            },
        }

    def check_choice(self, option_ids: list[int]) -> tuple[int, ...]:
        """The normalized choice, or ControlError when Telegram's client would not allow it."""
        if self.is_closed:
            raise ControlError(f"poll {self.id} is closed")
        if self.message_deleted:
            raise ControlError(f"the message of poll {self.id} was deleted")
        choice = tuple(sorted(option_ids))
        if len(set(choice)) != len(choice):
            raise ControlError("the same option is chosen twice")
        for index in choice:
            if not isinstance(index, int) or not 0 <= index < len(self.options):
                raise ControlError(f"option index {index} is out of range")
        if len(choice) > 1 and not self.allows_multiple_answers:
            raise ControlError(f"poll {self.id} allows only one answer")
        return choice

    def set_vote(self, voter: int, option_ids: list[int]) -> bool:
        """Record a voter's whole choice (empty = retraction); False when nothing changed."""
        choice = self.check_choice(option_ids)
        previous = self.votes.get(voter, ())
        if choice == previous:
            return False
        if previous and not self.allows_revoting:
            raise ControlError(f"poll {self.id} does not allow changing or retracting a vote")
        for index in previous:
            self.options[index].voter_count -= 1
        for index in choice:
            self.options[index].voter_count += 1
        if choice:
            self.votes[voter] = choice
        else:
            del self.votes[voter]
        return True

    def persistent_ids(self, choice: tuple[int, ...] | list[int]) -> list[str]:
        return [self.options[index].persistent_id for index in choice]


def _formatted(params: dict[str, Any], key: str, entities_key: str) -> tuple[str, list[JSON]]:
    raw = params.get(key)
    if raw is None:
        return "", []
    if not isinstance(raw, str):
        raise bad_request(f"{key} must be a string")
    return format_text(raw, params.get(f"{key}_parse_mode"), params.get(entities_key))


def _options(raw: Any) -> list[OptionState]:
    if not isinstance(raw, list):
        raise bad_request("options must be an array of InputPollOption")
    if not 1 <= len(raw) <= MAX_OPTIONS:
        raise bad_request(f"poll must have 1-{MAX_OPTIONS} options")
    options = []
    for index, item in enumerate(raw):
        spec = {"text": item} if isinstance(item, str) else item
        if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
            raise bad_request("options must be an array of InputPollOption")
        text, entities = format_text(
            spec["text"], spec.get("text_parse_mode"), spec.get("text_entities")
        )
        if not text:
            raise bad_request("poll options must be non-empty")
        if len(text) > MAX_OPTION_LENGTH:
            raise bad_request(f"poll options length must not exceed {MAX_OPTION_LENGTH}")
        options.append(OptionState(str(index), text, entities))
    return options


def _correct_ids(params: dict[str, Any], count: int) -> list[int]:
    ids = params.get("correct_option_ids")
    if ids is None and params.get("correct_option_id") is not None:
        ids = [int(params["correct_option_id"])]
    if not isinstance(ids, list) or not ids:
        raise bad_request("correct_option_ids must be specified for quizzes")
    valid = all(isinstance(i, int) and 0 <= i < count for i in ids)
    if not valid or any(a >= b for a, b in itertools.pairwise(ids)):
        raise bad_request("correct_option_ids must be increasing indices of the options")
    return list(ids)


def _closing(params: dict[str, Any], now: float) -> tuple[int | None, int | None]:
    period, close_date = params.get("open_period"), params.get("close_date")
    if period is not None and close_date is not None:
        raise bad_request("open_period and close_date can't be used together")
    if period is not None:
        if not isinstance(period, int) or not MIN_PERIOD <= period <= MAX_PERIOD:
            raise bad_request(f"open_period must be {MIN_PERIOD}-{MAX_PERIOD} seconds")
        return period, int(now) + period
    if close_date is not None:
        ahead = close_date - now if isinstance(close_date, int) else -1
        if not MIN_PERIOD <= ahead <= MAX_PERIOD:
            raise bad_request(
                f"close_date must be {MIN_PERIOD}-{MAX_PERIOD} seconds in the future"
            )
        return None, int(close_date)
    return None, None


MAX_COUNTRIES = 12


def _country_codes(params: dict[str, Any], chat_type: str) -> list[str]:
    """sendPoll's members_only and country_codes: for channel chats only; 0-12 two-letter
    ISO 3166-1 alpha-2 codes ("FT": anonymous numbers)."""
    codes = params.get("country_codes") or []
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise bad_request("country_codes must be an array of strings")
    if len(codes) > MAX_COUNTRIES:
        raise bad_request(f"country_codes must contain 0-{MAX_COUNTRIES} country codes")
    for code in codes:
        if len(code) != 2 or not ("A" <= code[0] <= "Z" and "A" <= code[1] <= "Z"):
            raise bad_request(f"COUNTRY_CODE_INVALID: {code!r}")
    if (codes or params.get("members_only")) and chat_type != "channel":
        raise bad_request("members_only and country_codes can be used only in channel chats")
    return list(codes)


def build_poll(poll_id: str, params: dict[str, Any], chat_type: str, now: float) -> PollState:
    """A new PollState from sendPoll parameters, refusing what Telegram refuses."""
    question, question_entities = _formatted(params, "question", "question_entities")
    if not question:
        raise bad_request("poll question must be non-empty")
    if len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    options = _options(params.get("options"))
    kind = params.get("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("poll type must be regular or quiz")
    anonymous = params.get("is_anonymous", True) is not False
    if chat_type == "channel" and not anonymous:
        raise bad_request("non-anonymous polls can't be sent to channel chats")
    adding = bool(params.get("allow_adding_options"))
    if adding and (anonymous or kind == "quiz"):
        raise bad_request("allow_adding_options is not supported for anonymous polls and quizzes")
    explanation, explanation_entities = _formatted(params, "explanation", "explanation_entities")
    if len(explanation) > 200:
        raise bad_request("poll explanation is too long (at most 200 characters)")
    description, description_entities = _formatted(params, "description", "description_entities")
    if len(description) > 1024:
        raise bad_request("poll description is too long (at most 1024 characters)")
    period, close_date = _closing(params, now)
    revoting = params.get("allows_revoting")
    return PollState(
        id=poll_id,
        question=question,
        question_entities=question_entities,
        options=options,
        type=kind,
        is_anonymous=anonymous,
        allows_multiple_answers=bool(params.get("allows_multiple_answers")),
        allows_revoting=(kind == "regular") if revoting is None else bool(revoting),
        allow_adding_options=adding,
        hide_results_until_closes=bool(params.get("hide_results_until_closes")),
        shuffle_options=bool(params.get("shuffle_options")),
        members_only=bool(params.get("members_only")),
        country_codes=_country_codes(params, chat_type),
        correct_option_ids=_correct_ids(params, len(options)) if kind == "quiz" else [],
        explanation=explanation or None,
        explanation_entities=explanation_entities,
        description=description or None,
        description_entities=description_entities,
        open_period=period,
        close_date=close_date,
        is_closed=bool(params.get("is_closed")),
    )
