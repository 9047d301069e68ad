-- Tickets (issue 4): a customer's request for a person, worked in a private thread.

-- The last ticket number given out per server, so numbers count up per server without gaps
-- racing each other (one atomic upsert per ticket).
CREATE TABLE ticket_numbers (
    guild_id BIGINT PRIMARY KEY,
    last     BIGINT NOT NULL
);

CREATE TABLE tickets (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    guild_id          BIGINT NOT NULL,
    number            BIGINT NOT NULL,
    customer_id       BIGINT NOT NULL,
    category          TEXT    NOT NULL,
    priority          TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    thread_id         BIGINT,
    agent_id          BIGINT,
    question_id       BIGINT REFERENCES questions (id),
    opened_at         BIGINT NOT NULL,
    claimed_at        BIGINT,
    first_response_at BIGINT,
    closed_at         BIGINT,
    close_reason      TEXT,
    UNIQUE (guild_id, number)
);
CREATE INDEX tickets_by_customer ON tickets (guild_id, customer_id, state);
CREATE INDEX tickets_by_state ON tickets (guild_id, state, opened_at);

-- Everything that happened to a ticket, for the transcript, the reports and audits.
CREATE TABLE ticket_events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    actor_id  BIGINT NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT,
    at        BIGINT NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id);
