-- The change feed (GET /events): every committed event exactly once, in the
-- order the feed sequencer assigned it.
--
-- Why not `position`: it is an AUTO_INCREMENT, taken when a row is inserted,
-- not when its transaction commits. A transaction that took 41 may commit
-- after the one that took 42, and one that rolls back leaves 41 unused for
-- ever; a reader paging by `position` could see 42, move on, and never see
-- 41. So the feed never shows `position`.
--
-- `feed_position` is the feed's order instead. Appends leave it NULL; the
-- feed sequencer (src/store/store_sequencer.c, a thread of each command
-- worker) gives committed events their positions in short transactions of
-- its own:
--
--   1. lock the one row of circle_feed_sequence (SELECT ... FOR UPDATE), so
--      at most one sequencer works at a time, whichever worker runs it;
--   2. read, as a READ COMMITTED consistent read, events whose
--      feed_position is NULL in `position` order: only committed rows are
--      visible to it, never an append still in flight or one rolled back
--      (to keep it cheap it reads only the range of positions a dirty read
--      just before found NULL; events outside it wait for the next pass);
--   3. number them last_position + 1, + 2, ... and store the new
--      last_position, then COMMIT: all of one batch become visible at once.
--
-- Every number comes from the counter row under its lock, so numbers are
-- consecutive and strictly increase in the order batches commit; a batch
-- that fails rolls back with its counter. An event is numbered once (its
-- feed_position is no longer NULL afterwards) and only once it committed.
-- A reader that saw position P therefore has seen every position up to P,
-- and anything numbered later gets a larger one: paging with
-- `feed_position > P` skips nothing and repeats nothing, however appends
-- interleave, commit or roll back. The UNIQUE key is what the reader pages
-- on, and the NULL entries in it are exactly the events still to number.
--
-- Events written before this migration start with NULL and are numbered by
-- the sequencer in `position` order, a batch at a time.
--
-- Grants (circlectl grants): the command user may UPDATE only this column of
-- circle_events, and SELECT/UPDATE the counter row.
--
-- Idempotent: apply it any number of times.

ALTER TABLE circle_events
    ADD COLUMN IF NOT EXISTS feed_position BIGINT UNSIGNED NULL DEFAULT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_circle_events_feed_position
    ON circle_events (feed_position);
ALTER TABLE circle_events
    ADD CONSTRAINT IF NOT EXISTS ck_circle_events_feed_position
        CHECK (feed_position IS NULL OR feed_position >= 1);

-- The sequencer's counter and lock: exactly one row, id 1, holding the last
-- feed position handed out.
CREATE TABLE IF NOT EXISTS circle_feed_sequence (
    id            TINYINT UNSIGNED NOT NULL,
    last_position BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT ck_circle_feed_sequence_id CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO circle_feed_sequence (id, last_position) VALUES (1, 0);
