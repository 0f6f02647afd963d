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
    UNIQUE (campaign_id, chat_id, kind)
);
CREATE INDEX followups_pending ON followups (kind) WHERE sent_at IS NULL;
