-- The outbox as each screen and worker lists it (`TeamOutbox.outbox`): what is pending (by
-- `outbox_due`), and what finished lately, found by this index rather than by reading every
-- reply the team ever sent.
CREATE INDEX outbox_updated ON outbox (updated_at);
