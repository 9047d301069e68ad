-- Reports (issue 6) read ranges of time per server; these indexes let the database answer from
-- the index alone, without reading a million rows.

-- Questions by time with their outcome (covering the counts and the timeline), and by outcome
-- then time (the unanswered ones).
DROP INDEX questions_by_guild_time;
CREATE INDEX questions_by_guild_time ON questions (guild_id, asked_at, outcome);
CREATE INDEX questions_by_outcome ON questions (guild_id, outcome, asked_at);
-- Solved, "talk to a person" and "none fit" events, found by kind.
CREATE INDEX question_events_by_kind ON question_events (kind, question_id);
-- Tickets opened and closed in a period, and the ticket a question led to (deflection).
CREATE INDEX tickets_by_opening ON tickets (guild_id, opened_at);
CREATE INDEX tickets_by_closing ON tickets (guild_id, closed_at);
CREATE INDEX tickets_by_question ON tickets (question_id);

-- Secrets Beacon makes for itself, kept so they outlive a restart and are shared by every
-- process on the database: the key that signs agents' transcript links.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Each server's name as Discord last gave it, for the public status page's title.
CREATE TABLE guild_names (
    guild_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL
);
