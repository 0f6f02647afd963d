-- pollbot schema, version 1. Append-only: later changes go in 002_*.sql and up.
-- Times are Unix seconds (UTC). Telegram ids are INTEGER, poll ids TEXT.

-- Key/value state of the bot itself: the getUpdates offset, keys.
CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Chats the bot knows: targets for posts and polls, and where it was added.
CREATE TABLE chats (
    chat_id       INTEGER PRIMARY KEY,
    type          TEXT NOT NULL,                     -- channel, supergroup, group, private
    title         TEXT,
    username      TEXT,                              -- without the @
    language      TEXT,                              -- NULL: the bot's default language
    bot_status    TEXT NOT NULL DEFAULT 'unknown',   -- administrator, member, left, kicked
    can_post      INTEGER NOT NULL DEFAULT 0,
    approved      INTEGER NOT NULL DEFAULT 0,
    gone_reported INTEGER NOT NULL DEFAULT 0,        -- admins were told it answers 403
    updated_at    INTEGER NOT NULL
);
CREATE INDEX chats_username ON chats (username COLLATE NOCASE);

-- One question posted to one or more chats (one Telegram poll per chat).
CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    question   TEXT NOT NULL,
    options    TEXT NOT NULL,                        -- JSON list of the original option texts
    spec       TEXT NOT NULL,                        -- JSON of the poll settings
    article_id TEXT,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    closed_at  INTEGER,
    origin     TEXT UNIQUE                           -- e.g. 'u123' (update id) for replays
);

-- One Telegram poll. chat_id/campaign_id are NULL for a poll seen before it was recorded.
CREATE TABLE polls (
    poll_id         TEXT PRIMARY KEY,
    campaign_id     INTEGER REFERENCES campaigns (id),
    chat_id         INTEGER,
    message_id      INTEGER,
    question        TEXT NOT NULL,
    type            TEXT NOT NULL DEFAULT 'regular',
    is_anonymous    INTEGER NOT NULL DEFAULT 1,
    allows_multiple INTEGER NOT NULL DEFAULT 0,
    is_closed       INTEGER NOT NULL DEFAULT 0,
    close_date      INTEGER,
    total_voters    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX polls_campaign ON polls (campaign_id);
CREATE INDEX polls_open_close_date ON polls (close_date) WHERE is_closed = 0;

-- Latest count of each option, keyed by Telegram's persistent_id (options can be added).
CREATE TABLE poll_options (
    poll_id       TEXT NOT NULL REFERENCES polls (poll_id),
    persistent_id TEXT NOT NULL,
    position      INTEGER NOT NULL,
    text          TEXT NOT NULL,
    voter_count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, persistent_id)
) WITHOUT ROWID;

-- Each voter's current choice in a non-anonymous poll. voter is a user id, a chat id
-- (voter_chat) or a keyed hash of either (privacy switch). option_ids: persistent ids.
CREATE TABLE answers (
    poll_id    TEXT NOT NULL,
    voter      TEXT NOT NULL,
    is_chat    INTEGER NOT NULL DEFAULT 0,
    option_ids TEXT NOT NULL,                        -- JSON list of persistent ids
    positions  TEXT NOT NULL,                        -- JSON list of option indices
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (poll_id, voter)
) WITHOUT ROWID;
-- A retraction is written as an empty choice and removed at once, so that one upsert
-- statement covers every answer (and a batch of them is one executemany).
CREATE TRIGGER answers_retract_insert AFTER INSERT ON answers WHEN NEW.option_ids = '[]'
BEGIN
    DELETE FROM answers WHERE poll_id = NEW.poll_id AND voter = NEW.voter;
END;
CREATE TRIGGER answers_retract_update AFTER UPDATE OF option_ids ON answers
WHEN NEW.option_ids = '[]'
BEGIN
    DELETE FROM answers WHERE poll_id = NEW.poll_id AND voter = NEW.voter;
END;

-- A bounded time series of counts: at most one point per poll per minute.
CREATE TABLE snapshots (
    poll_id TEXT NOT NULL,
    minute  INTEGER NOT NULL,                        -- Unix time // 60
    total   INTEGER NOT NULL,
    counts  TEXT NOT NULL,                           -- JSON {persistent_id: count}
    PRIMARY KEY (poll_id, minute)
) WITHOUT ROWID;

-- Articles posted to chats, with the message ids of every part.
CREATE TABLE posts (
    id          INTEGER PRIMARY KEY,
    article_id  TEXT NOT NULL,
    chat_id     INTEGER NOT NULL,
    language    TEXT NOT NULL,
    message_ids TEXT NOT NULL,                       -- JSON list
    campaign_id INTEGER REFERENCES campaigns (id),
    posted_by   INTEGER,
    posted_at   INTEGER NOT NULL,
    origin      TEXT UNIQUE                          -- e.g. 'u123:-100777' for replays
);
CREATE INDEX posts_article ON posts (article_id);

-- Everything the bot sent on behalf of an update, so a replayed update sends nothing twice.
CREATE TABLE sent (
    key        TEXT PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER,
    sent_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- Who asked for which article's summary (each user counted once), and the running count.
CREATE TABLE summary_requests (
    article_id TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    language   TEXT,
    first_at   INTEGER NOT NULL,
    PRIMARY KEY (article_id, user_id)
) WITHOUT ROWID;
CREATE TABLE article_stats (
    article_id      TEXT PRIMARY KEY,
    summary_readers INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Digest schedules (cron in a timezone, to a target chat) and every digest sent.
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    cron        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    target_chat INTEGER NOT NULL,
    target_name TEXT,
    language    TEXT,
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER,
    created_at  INTEGER NOT NULL,
    origin      TEXT UNIQUE
);
CREATE TABLE digests (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    target_chat INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,                    -- the cron time it was due (UTC)
    claimed_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    message_ids TEXT,
    UNIQUE (schedule_id, due_at)
);
CREATE INDEX digests_target ON digests (target_chat, id);
-- What each digest showed per campaign: the baseline for the next digest's deltas.
CREATE TABLE digest_items (
    digest_id   INTEGER NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
    campaign_id INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    counts      TEXT NOT NULL,                       -- JSON list, campaign option order
    leader      TEXT,
    PRIMARY KEY (digest_id, campaign_id)
) WITHOUT ROWID;

-- Updates handled in webhook mode: Telegram re-delivers an update it got no 2xx for, and
-- one that was committed but answered too late must not be handled twice. Pruned daily.
CREATE TABLE webhook_updates (
    update_id  INTEGER PRIMARY KEY,
    handled_at INTEGER NOT NULL
);

-- Updates that could not be parsed or whose handler failed: kept, not retried.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY,
    update_id  INTEGER,
    raw        TEXT NOT NULL,
    error      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every admin action that changes something.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER,
    action  TEXT NOT NULL,
    target  TEXT,
    result  TEXT NOT NULL,
    detail  TEXT
);
