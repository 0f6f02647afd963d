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
