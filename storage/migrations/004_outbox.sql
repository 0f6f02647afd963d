-- pollbot schema, version 4. The outbox: a send's intent is committed before the request
-- goes out (its result is the row of `sent`, the ledger). An intent sent more than once (a
-- crash between Telegram's answer and the ledger's commit) or never confirmed (a timeout)
-- may have left a message Telegram accepted; a poll among them is adopted into its campaign
-- when its first `poll` update arrives, matched by its question and options.
CREATE TABLE outbox (
    key         TEXT PRIMARY KEY,                    -- the ledger key (bot/replies.py SendKey)
    chat_id     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,          -- requests sent for it so far
    campaign_id INTEGER,                             -- a poll: its campaign
    question    TEXT,                                -- a poll: its question as sent
    options     TEXT,                                -- a poll: JSON list of its options
    adopted     INTEGER NOT NULL DEFAULT 0,          -- polls adopted from its lost requests
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX outbox_question ON outbox (question) WHERE question IS NOT NULL;
