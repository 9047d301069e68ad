-- The rest of a ticket's life (issue 4): what the customer asked, the first-response target and
-- its escalation, the customer's place in the queue, inactivity, the rating and the transcript.
-- Every message the bot posts for a ticket has its id kept here, so a restart edits it in place
-- or knows it was sent, and never posts it twice.
ALTER TABLE guild_settings ADD COLUMN supervisor_role BIGINT;
ALTER TABLE guild_settings ADD COLUMN transcripts_channel BIGINT;

-- Comma-separated, sorted: few tags per ticket, read together.
ALTER TABLE tickets ADD COLUMN tags TEXT NOT NULL DEFAULT '';
-- What the customer asked: the question that led here, or /ticket's text, or the form.
ALTER TABLE tickets ADD COLUMN subject TEXT NOT NULL DEFAULT '';
-- The language the customer is spoken to in.
ALTER TABLE tickets ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
-- When the first-response target passes (opening hours counted), and the escalation message.
ALTER TABLE tickets ADD COLUMN due_at BIGINT;
ALTER TABLE tickets ADD COLUMN escalation_id BIGINT;
-- The customer's "your place in the queue" message in the thread, and the place it shows.
ALTER TABLE tickets ADD COLUMN status_message_id BIGINT;
ALTER TABLE tickets ADD COLUMN shown_position BIGINT;
-- Inactivity: the customer's last message, and when they were warned (cleared when they write).
ALTER TABLE tickets ADD COLUMN customer_seen_at BIGINT;
ALTER TABLE tickets ADD COLUMN warned_at BIGINT;
-- The staff's last message: the customer is quiet only after someone answered them.
ALTER TABLE tickets ADD COLUMN staff_seen_at BIGINT;
-- Closing: how many times it was closed (message nonces differ per close), the transcript
-- posted, and the customer's rating.
ALTER TABLE tickets ADD COLUMN closings BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN wrapped_up BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN rating BIGINT;
ALTER TABLE tickets ADD COLUMN rating_comment TEXT;

CREATE INDEX tickets_by_thread ON tickets (thread_id);
CREATE INDEX tickets_by_due ON tickets (state, due_at);

-- Members a moderator has stopped from opening tickets.
CREATE TABLE blocked_users (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    blocked_by BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- Each closing's transcript, as posted: kept by Beacon too, so it outlives the channel.
CREATE TABLE ticket_transcripts (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    closing   BIGINT NOT NULL,
    markdown  TEXT NOT NULL,
    html      TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, closing)
);
