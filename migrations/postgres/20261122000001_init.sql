-- Beacon's first schema (PostgreSQL). Ids are Discord snowflakes, stored as 64-bit integers.
-- Times are Unix milliseconds.

-- One row per server: what a moderator chose with /setup. NULL means "not set yet".
CREATE TABLE guild_settings (
    guild_id         BIGINT PRIMARY KEY,
    forum_channel    BIGINT,
    agents_channel   BIGINT,
    announce_channel BIGINT,
    status_channel   BIGINT,
    agent_role       BIGINT,
    moderator_role   BIGINT,
    opening_hours    TEXT,
    time_zone        TEXT,
    threshold        DOUBLE PRECISION,
    updated_by       BIGINT,
    updated_at       BIGINT NOT NULL
);

-- Channels where the bot answers every message.
CREATE TABLE help_channels (
    guild_id   BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    PRIMARY KEY (guild_id, channel_id)
);

-- Every question the bot saw and what it decided. source_id is the Discord message or
-- interaction the question came in, so a redelivered event is recognised and not answered twice.
CREATE TABLE questions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id    BIGINT NOT NULL,
    channel_id  BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    source      TEXT    NOT NULL,
    source_id   BIGINT NOT NULL UNIQUE,
    text        TEXT    NOT NULL,
    lang        TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    intent      TEXT,
    confidence  DOUBLE PRECISION NOT NULL,
    suggestions TEXT    NOT NULL,
    asked_at    BIGINT NOT NULL,
    reply_id    BIGINT
);
CREATE INDEX questions_by_guild_time ON questions (guild_id, asked_at);

-- What people did with an answer: solved, asked for a person, picked a suggestion, ...
CREATE TABLE question_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id BIGINT NOT NULL REFERENCES questions (id),
    user_id     BIGINT NOT NULL,
    kind        TEXT    NOT NULL,
    intent      TEXT,
    at          BIGINT NOT NULL
);
CREATE INDEX question_events_by_question ON question_events (question_id);
