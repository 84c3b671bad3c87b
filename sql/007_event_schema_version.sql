-- The version of each event's payload schema.
--
-- An event's payload (`payload`) is written once and never changed, so when
-- the shape of the events evolves, old rows keep the shape they were written
-- in. Each row says which shape that is; the codec (src/codec/event_json.c)
-- reads every known version and upcasts it to the newest, so the domain only
-- ever sees one shape. Events written before this column existed are
-- version 1.
--
--   1  circle_created {name, capacity}, circle_updated {name?, capacity?},
--      circle_deleted {}
--
-- Idempotent: apply it any number of times.

ALTER TABLE circle_events
    ADD COLUMN IF NOT EXISTS schema_version SMALLINT UNSIGNED NOT NULL DEFAULT 1;
ALTER TABLE circle_events
    ADD CONSTRAINT IF NOT EXISTS ck_circle_events_schema_version
        CHECK (schema_version >= 1);
