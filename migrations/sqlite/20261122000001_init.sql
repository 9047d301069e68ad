-- Beacon's first schema (SQLite). Ids are Discord snowflakes, stored as 64-bit integers.
-- Times are Unix milliseconds.

-- One row per server: what a moderator chose with /setup. NULL means "not set yet".
CREATE TABLE guild_settings (
    guild_id         INTEGER PRIMARY KEY,
    forum_channel    INTEGER,
    agents_channel   INTEGER,
    announce_channel INTEGER,
    status_channel   INTEGER,
    agent_role       INTEGER,
    moderator_role   INTEGER,
    opening_hours    TEXT,
    time_zone        TEXT,
    threshold        REAL,
    updated_by       INTEGER,
    updated_at       INTEGER NOT NULL
);

-- Channels where the bot answers every message.
CREATE TABLE help_channels (
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

-- Every question the bot saw and what it decided. source_id is the Discord message or
-- interaction the question came in, so a redelivered event is recognised and not answered twice.
CREATE TABLE questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    source      TEXT    NOT NULL,
    source_id   INTEGER NOT NULL UNIQUE,
    text        TEXT    NOT NULL,
    lang        TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    intent      TEXT,
    confidence  REAL    NOT NULL,
    suggestions TEXT    NOT NULL,
    asked_at    INTEGER NOT NULL,
    reply_id    INTEGER
);
CREATE INDEX questions_by_guild_time ON questions (guild_id, asked_at);

-- What people did with an answer: solved, asked for a person, picked a suggestion, ...
CREATE TABLE question_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions (id),
    user_id     INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    intent      TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX question_events_by_question ON question_events (question_id);
