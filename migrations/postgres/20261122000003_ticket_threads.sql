-- Tickets open as private threads in a channel a moderator chooses, with a card in the agents'
-- channel; the card's message id is kept so it is edited in place and never posted twice.
ALTER TABLE guild_settings ADD COLUMN tickets_channel BIGINT;
ALTER TABLE tickets ADD COLUMN queue_card_id BIGINT;
