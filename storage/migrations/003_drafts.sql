-- pollbot schema, version 3. What an admin asked to publish waits here as a draft until
-- they press Publish or Cancel under its preview; a campaign can be deleted (undone).
CREATE TABLE drafts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                       -- 'post', 'poll' or 'newpoll'
    article_id  TEXT,                                -- post, poll: the article
    spec        TEXT,                                -- poll, newpoll: JSON of the poll settings
    targets     TEXT NOT NULL,                       -- JSON list of target chat ids
    created_by  INTEGER NOT NULL,                    -- the admin who asked
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',     -- pending, publishing, published,
                                                     -- cancelled, expired
    decided_by  INTEGER,                             -- who pressed Publish or Cancel
    decided_at  INTEGER,
    origin      TEXT UNIQUE                          -- 'u123': the update that asked (replays)
);

ALTER TABLE campaigns ADD COLUMN deleted_at INTEGER;  -- /delete: its messages were deleted
