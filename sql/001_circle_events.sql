-- The event store: every change to a circle, in the order it happened.
--
-- `position` is the global order of all events (the primary key, so InnoDB
-- clusters rows by it and appends at the end). The UNIQUE key on
-- (circle_id, version) is what enforces optimistic concurrency: of two
-- writers appending the same version, the database lets exactly one commit
-- and the other gets a duplicate-key error, whatever the application read.
-- Ids are canonical lower-case UUIDs compared byte for byte.
--
-- Idempotent: apply it any number of times.

CREATE TABLE IF NOT EXISTS circle_events (
    `position`  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    id          CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    circle_id   CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    version     INT UNSIGNED NOT NULL,
    event_type  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    payload     JSON NOT NULL,
    occurred_at DATETIME(6) NOT NULL COMMENT 'UTC',
    PRIMARY KEY (`position`),
    UNIQUE KEY uq_circle_events_id (id),
    UNIQUE KEY uq_circle_events_circle_version (circle_id, version),
    CONSTRAINT ck_circle_events_id
        CHECK (id REGEXP '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
    CONSTRAINT ck_circle_events_circle_id
        CHECK (circle_id REGEXP '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
    CONSTRAINT ck_circle_events_version CHECK (version >= 1),
    CONSTRAINT ck_circle_events_type
        CHECK (event_type IN ('circle_created', 'circle_updated', 'circle_deleted'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
