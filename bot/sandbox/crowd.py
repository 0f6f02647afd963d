"""Simulated subscribers: random users vote in polls, some change their mind, some retract.

`simulate` plans the actions with a seeded RNG (deterministic for a given seed and poll
state) and applies them through `World.bulk_votes`, the same path as single votes, so
the bot receives exactly the poll/poll_answer updates real voters would cause.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.client import SandboxClient
from bot.sandbox.world import World

FIRST_NAMES = ("Alex", "Maria", "Ivan", "Olga", "Sam", "Lena", "Dmitry", "Anna", "Oleg", "Kate")
LANGUAGES = ("en", "ru", "de", "es")


@dataclass(slots=True)
class PollView:
    """What the crowd needs to know about a poll."""

    id: str
    options: int
    multiple: bool
    revoting: bool
    votes: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PollView:
        """From World.poll()/SandboxClient.poll() output."""
        votes = {int(k): tuple(v) for k, v in data["sandbox"]["votes"].items()}
        return cls(
            data["id"],
            len(data["options"]),
            data["allows_multiple_answers"],
            data["allows_revoting"],
            votes,
        )


@dataclass(slots=True)
class CrowdReport:
    """What the crowd did: the [user_id, poll_id, option_ids] list and what the sandbox said."""

    actions: list[list[Any]]
    votes: int = 0
    changes: int = 0
    retractions: int = 0
    skipped: int = 0
    result: dict[str, Any] = field(default_factory=dict)


def _pick(rng: random.Random, poll: PollView, weights: list[float]) -> list[int]:
    indices = list(range(poll.options))
    if not poll.multiple:
        return rng.choices(indices, weights)
    count = rng.randint(1, min(3, poll.options))
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.add(rng.choices(indices, weights)[0])
    return sorted(chosen)


def plan(
    polls: list[PollView],
    user_ids: list[int],
    actions: int,
    change: float = 0.2,
    retract: float = 0.05,
    seed: int = 0,
) -> CrowdReport:
    """Decide `actions` voting actions (without applying them)."""
    rng = random.Random(seed)
    weights = {p.id: [rng.random() ** 2 + 0.05 for _ in range(p.options)] for p in polls}
    current = {(p.id, user): choice for p in polls for user, choice in p.votes.items()}
    report = CrowdReport(actions=[])
    for _ in range(actions if polls and user_ids else 0):
        poll, user = rng.choice(polls), rng.choice(user_ids)
        previous = current.get((poll.id, user), ())
        if not previous:
            choice = _pick(rng, poll, weights[poll.id])
            report.votes += 1
        elif not poll.revoting:
            report.skipped += 1
            continue
        else:
            roll = rng.random()
            if roll < retract:
                choice = []
                report.retractions += 1
            elif roll < retract + change:
                choice = _pick(rng, poll, weights[poll.id])
                if tuple(choice) == previous:
                    report.skipped += 1
                    continue
                report.changes += 1
            else:
                report.skipped += 1
                continue
        current[(poll.id, user)] = tuple(choice)
        report.actions.append([user, poll.id, choice])
    return report


def _user_ids(users: int, first_user_id: int) -> list[int]:
    return list(range(first_user_id, first_user_id + users))


def simulate(
    world: World,
    poll_ids: list[str],
    users: int = 100,
    actions: int = 1000,
    change: float = 0.2,
    retract: float = 0.05,
    seed: int = 0,
    first_user_id: int = 1_000_000,
) -> CrowdReport:
    """Create `users` subscribers and let them act `actions` times on the open polls."""
    rng = random.Random(seed)
    ids = _user_ids(users, first_user_id)
    for user_id in ids:
        if user_id not in world.users:
            name = f"{rng.choice(FIRST_NAMES)} {user_id - first_user_id + 1}"
            world.add_user(user_id, name, rng.choice(LANGUAGES))
    views = [PollView.from_json(world.poll(pid)) for pid in poll_ids]
    report = plan(
        [v for v in views if not world.polls[v.id].is_closed], ids, actions, change, retract, seed
    )
    report.result = world.bulk_votes(report.actions)
    return report


async def simulate_remote(
    client: SandboxClient,
    poll_ids: list[str],
    users: int = 100,
    actions: int = 1000,
    change: float = 0.2,
    retract: float = 0.05,
    seed: int = 0,
    first_user_id: int = 1_000_000,
) -> CrowdReport:
    """`simulate` over the control API (users are created on the fly as "User <id>")."""
    polls = [await client.poll(pid) for pid in poll_ids]
    views = [PollView.from_json(p) for p in polls if not p["is_closed"]]
    report = plan(views, _user_ids(users, first_user_id), actions, change, retract, seed)
    report.result = await client.bulk_votes(report.actions)
    return report
