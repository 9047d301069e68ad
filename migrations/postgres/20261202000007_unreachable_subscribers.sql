-- Members whose direct messages Discord refuses (50007: DMs closed to the server's members, or
-- they left): recorded when their confirmation or a delivery is refused, skipped by fan-outs
-- until they subscribe again and the confirmation gets through. The announcement channel and
-- role still reach them.
ALTER TABLE subscriptions ADD COLUMN dm_refused_at BIGINT;
