"""The cast of every test world: one set of people and chats, the same in every harness.

tests/harness.py (the bot's world) and tests/sandbox/conftest.py (the sandbox's own tests)
both build their worlds from these, so 1001 is Alice everywhere, as in ``pollbot demo``.
Which chats a world creates, and who administers them there, is up to each world.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox import World


@dataclass(frozen=True, slots=True)
class Person:
    first_name: str
    language_code: str
    username: str


@dataclass(frozen=True, slots=True)
class Place:
    type: str
    title: str
    username: str | None


ADMIN = 1001  # in [bot] admins, English
ADMIN_RU = 1002  # in [bot] admins, Russian
READER = 2001  # a subscriber, English
READER_RU = 2002  # a subscriber, Russian
CHANNEL_ADMIN = 3001  # administers @plantnews in the bot's world, not a bot admin
STRANGER = 4001  # a user nobody knows: in no chat, never wrote to the bot

PEOPLE = {
    ADMIN: Person("Alice", "en", "alice_admin"),
    ADMIN_RU: Person("Борис", "ru", "boris_admin"),
    READER: Person("Rita", "en", "rita"),
    READER_RU: Person("Дарья", "ru-RU", "darya"),
    CHANNEL_ADMIN: Person("Carl", "en", "carl"),
    STRANGER: Person("Stan", "en", "stan"),
}

PLANTNEWS = -1001001  # channel @plantnews
AUTONEWS = -1001002  # channel @autonews
GROUP = -1002001  # supergroup "Plant fans"
SMALL_GROUP = -4242  # a basic group (not a supergroup)

PLACES = {
    PLANTNEWS: Place("channel", "Plant News", "plantnews"),
    AUTONEWS: Place("channel", "Auto News", "autonews"),
    GROUP: Place("supergroup", "Plant fans", None),
    SMALL_GROUP: Place("group", "Small group", None),
}


def add_people(world: World, *user_ids: int) -> None:
    """Add people of the cast to ``world``."""
    for user_id in user_ids:
        person = PEOPLE[user_id]
        world.add_user(user_id, person.first_name, person.language_code, person.username)


def add_place(
    world: World, chat_id: int, admins: list[int], bot_status: str = "administrator"
) -> None:
    """Add a chat of the cast to ``world``, with its administrators there."""
    place = PLACES[chat_id]
    world.add_chat(chat_id, place.type, place.title, place.username, bot_status, admins=admins)
