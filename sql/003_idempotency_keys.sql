-- Remembered creates, found by their Idempotency-Key.
--
-- A key is written in the same transaction as the create it remembers, so
-- only successful creates are remembered, and of two concurrent creates with
-- one key the PRIMARY KEY lets exactly one commit.
--
-- Retention: a key counts for 24 hours after created_at (UTC, set by the
-- server). Older rows are ignored by look-ups, removed by a create that
-- reuses the key, and purged in batches by the command worker (at most once
-- an hour per connection); the index on created_at keeps that purge cheap.
--
-- Idempotent: apply it any number of times.

CREATE TABLE IF NOT EXISTS idempotency_keys (
    idem_key   VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    circle_id  CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name       VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    capacity   SMALLINT NOT NULL,
    created_at DATETIME(6) NOT NULL COMMENT 'UTC',
    PRIMARY KEY (idem_key),
    KEY ix_idempotency_keys_created_at (created_at),
    CONSTRAINT ck_idempotency_keys_key CHECK (CHAR_LENGTH(idem_key) >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
