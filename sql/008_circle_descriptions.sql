-- Descriptions: schema version 2 of the event payloads, and the columns
-- that keep a circle's description beside its other state.
--
-- Schema versions of circle_events.payload (circle_events.schema_version,
-- sql/007_event_schema_version.sql); the codec (src/codec/event_json.c)
-- reads each of them and upcasts it to the newest, and writes only the
-- newest:
--
--   1  circle_created {name, capacity}, circle_updated {name?, capacity?},
--      circle_deleted {}
--   2  as 1, and circle_created {description?} (only when the circle has
--      one, never ""), circle_updated {description?} (when it changed; ""
--      when it was removed). A version-1 event reads as a version-2 event
--      without a description.
--
-- Rows written before this migration keep schema_version 1: their payloads
-- are read as they were written.
--
-- A description is 0 to 500 code points; '' is "none", so every row written
-- before this migration reads as a circle without one. The remembered answer
-- of an Idempotency-Key carries it too, so a repeat answers the same body.
--
-- Idempotent: apply it any number of times.

ALTER TABLE circle_projections
    ADD COLUMN IF NOT EXISTS description VARCHAR(500) CHARACTER SET utf8mb4
        COLLATE utf8mb4_bin NOT NULL DEFAULT '';
ALTER TABLE circle_snapshots
    ADD COLUMN IF NOT EXISTS description VARCHAR(500) CHARACTER SET utf8mb4
        COLLATE utf8mb4_bin NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys
    ADD COLUMN IF NOT EXISTS description VARCHAR(500) CHARACTER SET utf8mb4
        COLLATE utf8mb4_bin NOT NULL DEFAULT '';
