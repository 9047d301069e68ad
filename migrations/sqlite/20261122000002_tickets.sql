-- Tickets (issue 4): a customer's request for a person, worked in a private thread.

-- The last ticket number given out per server, so numbers count up per server without gaps
-- racing each other (one atomic upsert per ticket).
CREATE TABLE ticket_numbers (
    guild_id INTEGER PRIMARY KEY,
    last     INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    customer_id       INTEGER NOT NULL,
    category          TEXT    NOT NULL,
    priority          TEXT    NOT NULL,
    state             TEXT    NOT NULL,
    thread_id         INTEGER,
    agent_id          INTEGER,
    question_id       INTEGER REFERENCES questions (id),
    opened_at         INTEGER NOT NULL,
    claimed_at        INTEGER,
    first_response_at INTEGER,
    closed_at         INTEGER,
    close_reason      TEXT,
    UNIQUE (guild_id, number)
);
CREATE INDEX tickets_by_customer ON tickets (guild_id, customer_id, state);
CREATE INDEX tickets_by_state ON tickets (guild_id, state, opened_at);

-- Everything that happened to a ticket, for the transcript, the reports and audits.
CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    actor_id  INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    detail    TEXT,
    at        INTEGER NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id);
