-- Crisis mode, announcements and subscriptions (issue 5).

-- Who may be pinged on announcements (an opt-in role members give themselves).
ALTER TABLE guild_settings ADD COLUMN announce_role BIGINT;

-- A crisis on one topic of one server; several may run at once under different topics.
CREATE TABLE crises (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id          BIGINT NOT NULL,
    topic             TEXT NOT NULL,
    title             TEXT NOT NULL,
    status_text       TEXT NOT NULL,
    started_by        BIGINT NOT NULL,
    started_at        BIGINT NOT NULL,
    ended_at          BIGINT,
    closing_note      TEXT,
    -- The source-of-truth message in the status channel, posted once and edited in place.
    status_channel_id BIGINT,
    status_message_id BIGINT
);
-- One running crisis per topic and server.
CREATE UNIQUE INDEX crises_running ON crises (guild_id, topic) WHERE ended_at IS NULL;

-- Every update, in order: the start, each update, the end. Each is announced once.
CREATE TABLE crisis_updates (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    crisis_id           BIGINT NOT NULL REFERENCES crises (id),
    kind                TEXT NOT NULL,
    text                TEXT NOT NULL,
    posted_by           BIGINT NOT NULL,
    at                  BIGINT NOT NULL,
    -- Set once the status message shows it and the announcement is posted.
    status_done         BIGINT NOT NULL DEFAULT 0,
    announce_message_id BIGINT,
    -- Where the moderator watches delivery progress.
    progress_channel_id BIGINT,
    progress_message_id BIGINT,
    -- Set once every delivery was written to the outbox, and once the final report is shown.
    fanned_out          BIGINT NOT NULL DEFAULT 0,
    reported            BIGINT NOT NULL DEFAULT 0
);

-- Members who asked to hear about a topic ('*' for every topic) by direct message. The DM
-- channel is opened when they subscribe, so a fan-out costs one request per member.
CREATE TABLE subscriptions (
    guild_id      BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    topic         TEXT NOT NULL,
    dm_channel_id BIGINT NOT NULL,
    -- The language their messages come in.
    lang          TEXT NOT NULL DEFAULT 'en',
    since         BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id, topic)
);

-- The durable outbox: a row per direct message before anything is sent. A sender claims rows
-- (several senders share them on PostgreSQL), sends with the row's enforced nonce, and records
-- the outcome; a claim that expires (a crashed sender) is picked up again, with the same nonce.
CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    update_id     BIGINT NOT NULL REFERENCES crisis_updates (id),
    user_id       BIGINT NOT NULL,
    channel_id    BIGINT NOT NULL,
    lang          TEXT NOT NULL DEFAULT 'en',
    state         TEXT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    claimed_until BIGINT,
    message_id    BIGINT,
    error         TEXT,
    done_at       BIGINT,
    UNIQUE (update_id, user_id)
);
CREATE INDEX outbox_due ON outbox (state, next_at);
CREATE INDEX outbox_by_update ON outbox (update_id, state);
