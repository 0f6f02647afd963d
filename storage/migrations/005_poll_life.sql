-- pollbot schema, version 4. What the bot posts in a poll's chats around its close: the
-- final result (and the creator's private note), and the reminder before it closes. Each
-- is claimed here before it is sent, once per campaign, chat and kind; a claim not sent
-- yet (a crash in between) is sent later under a ledger key derived from its id.
CREATE TABLE followups (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    chat_id     INTEGER NOT NULL,                    -- a poll's chat, or the creator's
    kind        TEXT NOT NULL,                       -- 'final', 'note' or 'remind'
    reply_to    INTEGER,                             -- the poll's message in that chat
    claimed_at  INTEGER NOT NULL,
    sent_at     INTEGER,                             -- NULL: claimed, not sent yet
    message_ids TEXT,                                -- JSON list of the messages sent
    UNIQUE (campaign_id, chat_id, kind)
);
CREATE INDEX followups_pending ON followups (kind) WHERE sent_at IS NULL;
-- Campaigns closed before this version had no final post, and get none now: their claims
-- are recorded as done (a closed campaign without one is claimed at start).
INSERT INTO followups (campaign_id, chat_id, kind, reply_to, claimed_at, sent_at)
SELECT p.campaign_id, p.chat_id, 'final', p.message_id, c.closed_at, c.closed_at
FROM polls p JOIN campaigns c ON c.id = p.campaign_id
WHERE c.closed_at IS NOT NULL AND p.chat_id IS NOT NULL
ON CONFLICT (campaign_id, chat_id, kind) DO NOTHING;
