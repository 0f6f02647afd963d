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

-- What a chat may see (issue 12): a digest to a channel or group covers only that chat's
-- polls. The items the older, combined digests to those chats kept would be the baseline of
-- the next one's changes ("-236", "was ..."), showing other chats' counts: forget them (the
-- next digest to such a chat counts as its first). A chat's scheduled digests follow the
-- chat's language when they are sent, not the one it had when they were scheduled.
DELETE FROM digest_items WHERE digest_id IN (SELECT id FROM digests WHERE target_chat < 0);
UPDATE schedules SET language = NULL WHERE target_chat < 0;
