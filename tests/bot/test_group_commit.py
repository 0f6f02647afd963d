"""bot/group_commit.py: one commit at a time, each caller answered after the commit that
holds its item, and a cancelled leader fails its own group only."""

from __future__ import annotations

import asyncio

import pytest

from bot.group_commit import GroupCommit, NotCommitted


class Disk:
    """A commit that records its groups and waits for ``release`` while ``hold`` is set."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.hold = False
        self.release = asyncio.Event()

    async def commit(self, items: list[str]) -> list[str]:
        self.groups.append(items)
        if self.hold:
            await self.release.wait()
        return [f"{item} stored" for item in items]


async def test_what_arrives_during_a_commit_is_committed_next_in_one_group() -> None:
    disk = Disk()
    group = GroupCommit(disk.commit, limit=3)
    disk.hold = True
    first = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(group.submit(item)) for item in "bcde"]
    await asyncio.sleep(0.01)
    assert disk.groups == [["a"]]
    assert not any(task.done() for task in [first, *rest])  # nothing answered before commit
    disk.hold = False
    disk.release.set()
    assert await asyncio.gather(first, *rest) == [f"{item} stored" for item in "abcde"]
    assert disk.groups == [["a"], ["b", "c", "d"], ["e"]]


async def test_a_cancelled_leader_fails_its_group_and_the_next_caller_leads() -> None:
    disk = Disk()
    group = GroupCommit(disk.commit, limit=10)
    disk.hold = True
    leader = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0)
    cancelled_waiter = asyncio.create_task(group.submit("b"))
    await asyncio.sleep(0.01)
    disk.hold = False
    waiter = asyncio.create_task(group.submit("c"))
    await asyncio.sleep(0.01)
    assert disk.groups == [["a"]]

    cancelled_waiter.cancel()
    leader.cancel()  # the process stops in the middle of the first commit

    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await waiter == "c stored"  # led its own group; the cancelled caller's item is dropped
    assert disk.groups == [["a"], ["c"]]
    assert await group.submit("d") == "d stored"


async def test_the_others_of_a_failed_group_get_not_committed() -> None:
    """The leader sees the commit's own error; the rest of its group, NotCommitted."""
    disk = Disk()
    disk.hold = True

    async def breaks_on_y(items: list[str]) -> list[str]:
        if "y" in items:
            raise OSError("disk I/O error")
        return await disk.commit(items)

    group = GroupCommit(breaks_on_y, limit=10)
    first = asyncio.create_task(group.submit("x"))
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(group.submit(item)) for item in "yz"]
    await asyncio.sleep(0.01)
    disk.release.set()
    results = await asyncio.gather(first, *tasks, return_exceptions=True)
    assert results[0] == "x stored"
    assert isinstance(results[1], OSError)
    assert isinstance(results[2], NotCommitted)


async def test_a_caller_cancelled_as_its_answer_came_does_not_wake_a_second_leader() -> None:
    """b leads [b, c]; c's request is cancelled just as its answer arrives. d and e, who
    came meanwhile, must be committed by one leader at a time: before, c passed on a lead
    it never had, and d and e both led (two commits at once, 'Result is not set')."""
    tasks: dict[str, asyncio.Task[str]] = {}

    async def commit(items: list[str]) -> list[str]:
        await asyncio.sleep(0.05)
        return [f"{item} stored" for item in items]

    class Cancelling(GroupCommit[str, str]):
        async def _commit_group(self, me: object) -> None:  # type: ignore[override]
            await super()._commit_group(me)  # type: ignore[arg-type]
            if getattr(me, "item", None) == "b":
                tasks["c"].cancel()

    group = Cancelling(commit, 100)
    tasks["a"] = asyncio.create_task(group.submit("a"))
    await asyncio.sleep(0.01)
    tasks["b"] = asyncio.create_task(group.submit("b"))
    tasks["c"] = asyncio.create_task(group.submit("c"))
    await asyncio.sleep(0.07)
    tasks["d"] = asyncio.create_task(group.submit("d"))
    tasks["e"] = asyncio.create_task(group.submit("e"))
    results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    answers = dict(zip(tasks, results, strict=True))
    assert isinstance(answers.pop("c"), asyncio.CancelledError)
    assert answers == {item: f"{item} stored" for item in "abde"}
