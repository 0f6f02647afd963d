"""Group commit: what arrives while a commit is in flight is committed together, next.

Webhook deliveries come in concurrently (Telegram keeps up to 40 connections open), and a
commit waits for the disk. Committing each delivery alone makes every one of them wait for
its own fsync; here the first caller leads: it commits everything waiting (its own item
first), answers every caller of that group, and hands the lead to the oldest caller still
waiting, whose group is everything that arrived meanwhile. Nobody's answer waits for a
group after its own, and there is never more than one commit in flight.

The leader does the work in its own task, so cancelling it (the process stopping) undoes
its group as a crash would: the others of that group get ``NotCommitted``, never a result.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class NotCommitted(Exception):
    """The group holding this item failed or was cancelled: nothing of it is stored."""


class _Lead:
    """Given to a waiting caller instead of a result: its turn to commit a group."""


LEAD = _Lead()


class _Waiter(Generic[Item, Result]):
    __slots__ = ("future", "item")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.future: asyncio.Future[Result | _Lead] = asyncio.get_running_loop().create_future()


class GroupCommit(Generic[Item, Result]):
    """Runs ``commit(items)`` (one result per item, in order) for items submitted
    concurrently, at most ``limit`` per call and one call at a time."""

    def __init__(
        self, commit: Callable[[list[Item]], Awaitable[Sequence[Result]]], limit: int
    ) -> None:
        self._commit = commit
        self._limit = limit
        self._waiting: deque[_Waiter[Item, Result]] = deque()
        self._leading = False

    async def submit(self, item: Item) -> Result:
        """The item's result, once the commit holding it is done."""
        me: _Waiter[Item, Result] = _Waiter(item)
        self._waiting.append(me)
        if self._leading:
            outcome = await self._wait(me)
            if not isinstance(outcome, _Lead):
                return outcome
            me.future = asyncio.get_running_loop().create_future()
        self._leading = True
        try:
            await self._commit_group(me)
        finally:
            self._pass_lead()
        outcome = me.future.result()
        assert not isinstance(outcome, _Lead)
        return outcome

    async def _wait(self, me: _Waiter[Item, Result]) -> Result | _Lead:
        try:
            return await me.future
        except asyncio.CancelledError:
            # Cancelled just as the lead came: pass it on, or every caller would wait forever.
            if me.future.done() and not me.future.cancelled() and me.future.result() is LEAD:
                self._pass_lead()
            raise

    async def _commit_group(self, me: _Waiter[Item, Result]) -> None:
        """Commit the oldest waiting items (``me`` is the first) and answer their callers."""
        group: list[_Waiter[Item, Result]] = []
        while self._waiting and len(group) < self._limit:
            waiter = self._waiting.popleft()
            if not waiter.future.done():  # a caller cancelled while it waited is not stored
                group.append(waiter)
        try:
            results = await self._commit([waiter.item for waiter in group])
        except BaseException as exc:
            for waiter in group:
                if waiter is not me and not waiter.future.done():
                    waiter.future.set_exception(NotCommitted(f"not committed: {exc!r}"))
            raise
        for waiter, result in zip(group, results, strict=True):
            if not waiter.future.done():
                waiter.future.set_result(result)

    def _pass_lead(self) -> None:
        """Wake the oldest caller still waiting to lead the next group, if there is one."""
        while self._waiting:
            waiter = self._waiting[0]
            if not waiter.future.done():
                waiter.future.set_result(LEAD)
                return
            self._waiting.popleft()
        self._leading = False
