"""The statements a batch may defer, and why their order does not matter.

Inside a batch, a write whose result nobody reads is queued and the queue runs grouped by
statement (one ``executemany`` each, in the order each statement first came; the rows of
one statement keep their order). That reorders writes of *different* statements, so only
the statements listed in ``DEFERRABLE`` may be queued; ``StoreBase`` refuses any other, and
every other write runs at once (after the queue, which it flushes first). Before adding a
statement here, check that running it before or after any other listed statement's rows
gives the same database.
"""

from __future__ import annotations

# The bot's own key/value state (offsets, watermarks). An upsert by key: rows of one key
# keep their order, so the last value wins; no other listed statement reads ``state``.
SET_STATE = (
    "INSERT INTO state (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

# A voter's whole current choice, an upsert keyed by (poll, voter): the last one wins. Its
# trigger deletes only the same (poll, voter) row, and no other listed statement touches
# ``answers``.
RECORD_ANSWER = (
    "INSERT INTO answers (poll_id, voter, is_chat, option_ids, positions,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id, voter)"
    " DO UPDATE SET option_ids = excluded.option_ids,"
    " positions = excluded.positions, updated_at = excluded.updated_at,"
    " is_chat = excluded.is_chat"
)

# A poll's latest full state: the poll row, its option counts and a snapshot. The last two
# read the first (a closed poll ignores late, open states), which is the one order that
# matters; ``apply_poll_state`` runs the queue before it queues a closed state, so in a
# queue only the first state of a poll can be closed, and running every poll row before
# every option row gives what running them state by state would.
_NOT_LATE = "? OR NOT EXISTS (SELECT 1 FROM polls WHERE poll_id = ? AND is_closed = 1)"
APPLY_POLL = (
    "INSERT INTO polls (poll_id, question, type, is_anonymous, allows_multiple,"
    " is_closed, close_date, total_voters, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (poll_id) DO UPDATE SET is_closed = excluded.is_closed,"
    " total_voters = excluded.total_voters, updated_at = excluded.updated_at"
    " WHERE polls.is_closed = 0 OR excluded.is_closed = 1"
)
APPLY_POLL_OPTIONS = (
    "INSERT INTO poll_options (poll_id, persistent_id, position, text, voter_count)"
    f" SELECT ?, ?, ?, ?, ? WHERE {_NOT_LATE}"
    " ON CONFLICT (poll_id, persistent_id) DO UPDATE SET"
    " voter_count = excluded.voter_count, text = excluded.text"
)
APPLY_POLL_SNAPSHOT = (
    "INSERT OR REPLACE INTO snapshots (poll_id, minute, total, counts)"
    f" SELECT ?, ?, ?, ? WHERE {_NOT_LATE}"
)

# A webhook update handled to the end. Only this statement writes ``webhook_updates`` in a
# batch, and only reads (which run the queue first) look at it. It is queued once the update
# is handled, after any checkpoint of that update, so it commits with its last write.
MARK_WEBHOOK_UPDATE = "INSERT OR IGNORE INTO webhook_updates (update_id, handled_at) VALUES (?, ?)"

DEFERRABLE = frozenset(
    {
        SET_STATE,
        MARK_WEBHOOK_UPDATE,
        RECORD_ANSWER,
        APPLY_POLL,
        APPLY_POLL_OPTIONS,
        APPLY_POLL_SNAPSHOT,
    }
)
