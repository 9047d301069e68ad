-- Crisis mode, announcements and subscriptions (issue 5).

-- Who may be pinged on announcements (an opt-in role members give themselves).
ALTER TABLE guild_settings ADD COLUMN announce_role INTEGER;

-- A crisis on one topic of one server; several may run at once under different topics.
CREATE TABLE crises (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    topic             TEXT NOT NULL,
    title             TEXT NOT NULL,
    status_text       TEXT NOT NULL,
    started_by        INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER,
    closing_note      TEXT,
    -- The source-of-truth message in the status channel, posted once and edited in place.
    status_channel_id INTEGER,
    status_message_id INTEGER
);
-- One running crisis per topic and server.
CREATE UNIQUE INDEX crises_running ON crises (guild_id, topic) WHERE ended_at IS NULL;

-- Every update, in order: the start, each update, the end. Each is announced once.
CREATE TABLE crisis_updates (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    crisis_id           INTEGER NOT NULL REFERENCES crises (id),
    kind                TEXT NOT NULL,
    text                TEXT NOT NULL,
    posted_by           INTEGER NOT NULL,
    at                  INTEGER NOT NULL,
    -- Set once the status message shows it and the announcement is posted.
    status_done         INTEGER NOT NULL DEFAULT 0,
    announce_message_id INTEGER,
    -- Where the moderator watches delivery progress.
    progress_channel_id INTEGER,
    progress_message_id INTEGER,
    -- Set once every delivery was written to the outbox, and once the final report is shown.
    fanned_out          INTEGER NOT NULL DEFAULT 0,
    reported            INTEGER NOT NULL DEFAULT 0
);

-- Members who asked to hear about a topic ('*' for every topic) by direct message. The DM
-- channel is opened when they subscribe, so a fan-out costs one request per member.
CREATE TABLE subscriptions (
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    topic         TEXT NOT NULL,
    dm_channel_id INTEGER NOT NULL,
    -- The language their messages come in.
    lang          TEXT NOT NULL DEFAULT 'en',
    since         INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id, topic)
);

-- The durable outbox: a row per direct message before anything is sent. A sender claims rows
-- (several senders share them on PostgreSQL), sends with the row's enforced nonce, and records
-- the outcome; a claim that expires (a crashed sender) is picked up again, with the same nonce.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id     INTEGER NOT NULL REFERENCES crisis_updates (id),
    user_id       INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL,
    lang          TEXT NOT NULL DEFAULT 'en',
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    claimed_until INTEGER,
    message_id    INTEGER,
    error         TEXT,
    done_at       INTEGER,
    UNIQUE (update_id, user_id)
);
CREATE INDEX outbox_due ON outbox (state, next_at);
CREATE INDEX outbox_by_update ON outbox (update_id, state);
