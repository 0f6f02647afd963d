-- pollbot schema, version 4. Articles composed in Telegram (/newarticle) live here beside
-- the files of content/; an admin's /newarticle conversation waits here between messages;
-- posts at a set time (/post ... at, the Schedule button) wait here until they are due.
CREATE TABLE articles (
    id          TEXT PRIMARY KEY,                    -- 'a-1', 'a-2', ...: /article a-1
    title       TEXT NOT NULL,
    language    TEXT NOT NULL,                       -- 'en' or 'ru' (told by the script)
    body        TEXT NOT NULL,                       -- HTML paragraphs, blank-line separated
    source      TEXT NOT NULL,                       -- 'text', 'forward' or 'link'
    source_url  TEXT,                                -- a link's address
    summary     TEXT,                                -- JSON list of points; NULL: automatic
    poll        TEXT,                                -- JSON of the poll settings; NULL: none
    image_file_id TEXT,                              -- Telegram's id of the lead image, once sent
    image       BLOB,                                -- a link's lead image, until it was sent
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    origin      TEXT UNIQUE                          -- 'u123': the message it came from (replays)
);

-- /delarticle: an article (a file's or a composed one) that is no longer offered.
CREATE TABLE archived_articles (
    article_id  TEXT PRIMARY KEY,
    archived_by INTEGER,
    archived_at INTEGER NOT NULL
);

-- One /newarticle conversation per admin: waiting for the article, for changes to its
-- draft, or for the time to schedule it at.
CREATE TABLE compose_sessions (
    user_id     INTEGER PRIMARY KEY,
    step        TEXT NOT NULL,                       -- 'article', 'draft' or 'when'
    draft_id    INTEGER REFERENCES drafts (id),
    refs        TEXT NOT NULL DEFAULT '[]',          -- JSON list of the @chats named
    updated_at  INTEGER NOT NULL
);

CREATE TABLE scheduled_posts (
    id          INTEGER PRIMARY KEY,
    article_id  TEXT NOT NULL,
    targets     TEXT NOT NULL,                       -- JSON list of chat ids
    due_at      INTEGER NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',     -- pending, sending, sent, cancelled, missed
    claimed_at  INTEGER,
    done_at     INTEGER,
    origin      TEXT UNIQUE                          -- 'u123' or 'd7': who asked (replays)
);
CREATE INDEX scheduled_posts_state ON scheduled_posts (state, due_at);
