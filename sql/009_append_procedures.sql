-- A command's write in two round trips, CALL circle_append(...) and COMMIT:
-- the procedure runs what the command worker used to send statement by
-- statement (the idempotency key, the event, the projection, every tenth
-- version a snapshot). Same transaction, same statements, same unique keys
-- deciding races: only the waits between them are gone. COMMIT stays the
-- worker's own statement, so that a write whose outcome is unknown is
-- exactly one whose COMMIT went unanswered, as before.
--
-- SQL SECURITY INVOKER: a procedure runs with the privileges of the worker
-- that calls it, so the event log stays append-only by privilege
-- (`circlectl grants` adds EXECUTE on these two procedures, nothing else).
--
-- Errors the caller tells apart, raised with numbers of our own so that no
-- message text (written in the server's language) is ever parsed:
--   31001  the circle is no longer at the version the command decided from
--          (the event's (circle_id, version) key, or the projection row's
--          version guard)
--   31002  a live circle already has the name
--   31003  the idempotency key is taken (and not expired)
-- Any other error (a deadlock, a lock wait timeout) passes through as the
-- server raised it. The caller rolls back on every error and commits on
-- success.
--
-- Procedures keep the sql_mode they were created under: the workers' own.
SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,'
    'ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY';

DROP PROCEDURE IF EXISTS circle_remember_key;
-- The key's row, for the answer a repeat of the request gets. INSERT first,
-- the one statement a new key needs; only when the key is taken is an
-- expired row of it dropped (this write replaces it) and the INSERT tried
-- once more. The primary key decides between racing repeats.
CREATE PROCEDURE circle_remember_key(
    IN p_key         VARCHAR(255) CHARACTER SET utf8mb4,
    IN p_circle_id   CHAR(36) CHARACTER SET ascii,
    IN p_name        VARCHAR(100) CHARACTER SET utf8mb4,
    IN p_capacity    SMALLINT,
    IN p_request     VARCHAR(2000) CHARACTER SET utf8mb4,
    IN p_status      SMALLINT,
    IN p_version     INT UNSIGNED,
    IN p_deleted     TINYINT,
    IN p_description VARCHAR(500) CHARACTER SET utf8mb4)
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    DECLARE taken BOOLEAN DEFAULT FALSE;
    DECLARE dropped BOOLEAN DEFAULT FALSE;

    remember: LOOP
        SET taken = FALSE;
        BEGIN
            DECLARE EXIT HANDLER FOR 1062, 1586 SET taken = TRUE;
            INSERT INTO idempotency_keys (idem_key, circle_id, name, capacity, request,
                status, version, deleted, description, created_at)
            VALUES (p_key, p_circle_id, p_name, p_capacity, p_request, p_status,
                p_version, p_deleted, p_description, UTC_TIMESTAMP(6));
        END;
        IF NOT taken THEN
            LEAVE remember;
        END IF;
        IF NOT dropped THEN
            DELETE FROM idempotency_keys
            WHERE idem_key = p_key AND created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR;
            SET dropped = ROW_COUNT() > 0;
        ELSE
            SET dropped = FALSE;
        END IF;
        IF NOT dropped THEN
            SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 31003,
                MESSAGE_TEXT = 'circle_remember_key: the idempotency key is taken';
        END IF;
    END LOOP;
END;

DROP PROCEDURE IF EXISTS circle_append;
-- One event with its projection row (INSERT at version 1, else UPDATE
-- guarded by the previous version), a snapshot when p_snapshot, the
-- idempotency key first when p_key is not NULL. It begins with ROLLBACK:
-- that ends the transaction of the command's read of the projection row
-- (it wrote nothing), so the read holds no table while the append waits
-- for one: a projection rebuild holds appends back while it swaps the
-- projection table, and the two would wait for each other.
CREATE PROCEDURE circle_append(
    IN p_event_id       CHAR(36) CHARACTER SET ascii,
    IN p_circle_id      CHAR(36) CHARACTER SET ascii,
    IN p_version        INT UNSIGNED,
    IN p_event_type     VARCHAR(64) CHARACTER SET ascii,
    IN p_payload        LONGTEXT CHARACTER SET utf8mb4,
    IN p_occurred_at    DATETIME(6),
    IN p_schema_version SMALLINT UNSIGNED,
    IN p_name           VARCHAR(100) CHARACTER SET utf8mb4,
    IN p_capacity       SMALLINT,
    IN p_deleted        TINYINT,
    IN p_description    VARCHAR(500) CHARACTER SET utf8mb4,
    IN p_snapshot       TINYINT,
    IN p_key            VARCHAR(255) CHARACTER SET utf8mb4,
    IN p_request        VARCHAR(2000) CHARACTER SET utf8mb4,
    IN p_status         SMALLINT)
    MODIFIES SQL DATA SQL SECURITY INVOKER
BEGIN
    ROLLBACK;
    -- The key first: a concurrent repeat of the same request waits on it
    -- before touching anything else, and loses cleanly.
    IF p_key IS NOT NULL THEN
        CALL circle_remember_key(p_key, p_circle_id, p_name, p_capacity, p_request,
            p_status, p_version, p_deleted, p_description);
    END IF;
    BEGIN
        DECLARE EXIT HANDLER FOR 1062, 1586
            SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 31001,
                MESSAGE_TEXT = 'circle_append: the circle is at another version';
        INSERT INTO circle_events (id, circle_id, version, event_type, payload,
            occurred_at, schema_version)
        VALUES (p_event_id, p_circle_id, p_version, p_event_type, p_payload,
            p_occurred_at, p_schema_version);
    END;
    BEGIN
        DECLARE EXIT HANDLER FOR 1062, 1586
            SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 31002,
                MESSAGE_TEXT = 'circle_append: a live circle has the name';
        IF p_version = 1 THEN
            INSERT INTO circle_projections (circle_id, name, capacity, version, deleted,
                description)
            VALUES (p_circle_id, p_name, p_capacity, p_version, p_deleted, p_description);
        ELSE
            UPDATE circle_projections SET name = p_name, capacity = p_capacity,
                version = p_version, deleted = p_deleted, description = p_description
            WHERE circle_id = p_circle_id AND version = p_version - 1;
            IF ROW_COUNT() <> 1 THEN
                SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 31001,
                    MESSAGE_TEXT = 'circle_append: the circle is at another version';
            END IF;
        END IF;
    END;
    IF p_snapshot THEN
        INSERT INTO circle_snapshots (circle_id, version, name, capacity, deleted,
            description)
        VALUES (p_circle_id, p_version, p_name, p_capacity, p_deleted, p_description);
    END IF;
END;
