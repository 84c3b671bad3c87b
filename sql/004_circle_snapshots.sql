-- Snapshots of a circle's state, so the command side need not replay a
-- circle's whole history before every command: it loads the latest snapshot
-- and replays only the events after it. One row is written every
-- STORE_SNAPSHOT_EVERY versions (src/store/store_internal.h), in the same
-- transaction as the event it follows from, and never changed afterwards:
-- a snapshot is a cache of the fold of events 1..version, and the events stay
-- the truth (circlectl verify replays them in full).
--
-- Idempotent: apply it any number of times.

CREATE TABLE IF NOT EXISTS circle_snapshots (
    circle_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    version   INT UNSIGNED NOT NULL,
    name      VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    capacity  SMALLINT NOT NULL,
    deleted   TINYINT(1) NOT NULL,
    PRIMARY KEY (circle_id, version),
    CONSTRAINT ck_circle_snapshots_version CHECK (version >= 1),
    CONSTRAINT ck_circle_snapshots_capacity CHECK (capacity BETWEEN 3 AND 32767),
    CONSTRAINT ck_circle_snapshots_deleted CHECK (deleted IN (0, 1))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
