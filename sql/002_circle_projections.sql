-- The read model: one row per circle, its state after its latest event.
-- Written in the same transaction as the event it follows from.
--
-- `name` keeps the name exactly as sent (binary collation: nothing folded).
-- `live_name` is the name while the circle is live and NULL once it is
-- deleted; it is generated from `name` and `deleted` so it cannot drift from
-- them. Its collation utf8mb4_uca1400_as_ci compares case- and
-- width-insensitively, ignores trailing spaces and ignorable characters,
-- and keeps accents apart, so its UNIQUE key refuses look-alike names among
-- live circles ("Football" vs "FOOTBALL", "ＦＯＯＴＢＡＬＬ", "Football ",
-- "Foot<U+200B>ball") while "Café" and "Cafe" may coexist. A UNIQUE key
-- admits any number of NULLs, so deleted circles free their names.
--
-- Idempotent: apply it any number of times.

CREATE TABLE IF NOT EXISTS circle_projections (
    circle_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name      VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    capacity  SMALLINT NOT NULL,
    version   INT UNSIGNED NOT NULL,
    deleted   TINYINT(1) NOT NULL DEFAULT 0,
    live_name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_as_ci
        AS (IF(deleted = 0, name, NULL)) PERSISTENT,
    PRIMARY KEY (circle_id),
    UNIQUE KEY uq_circle_projections_live_name (live_name),
    CONSTRAINT ck_circle_projections_circle_id
        CHECK (circle_id REGEXP '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
    CONSTRAINT ck_circle_projections_name CHECK (CHAR_LENGTH(name) >= 1),
    CONSTRAINT ck_circle_projections_capacity CHECK (capacity BETWEEN 3 AND 32767),
    CONSTRAINT ck_circle_projections_version CHECK (version >= 1),
    CONSTRAINT ck_circle_projections_deleted CHECK (deleted IN (0, 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
