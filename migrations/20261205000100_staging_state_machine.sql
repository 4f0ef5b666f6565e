-- The record's state machine, written once.
--
-- `sync_status` used to be set in two places: by the staging trigger when content changed, and
-- by the push engine's outcome statement (and three requeue statements) with their own CASEs.
-- It is now derived, in this one expression, from facts the writers record:
--
--   lease_owner        a scheduler is pushing the row                         -> in_flight
--   synced_version     the version Salesforce has (or had deleted)            -> synced / deleted
--   discarded_version  the failed version an operator gave up on             -> discarded
--   failed_version     the version Salesforce refused, or that ran out of
--                      attempts                                             -> failed
--   (none of these)                                                          -> pending
--
-- A new change bumps `version`, so it no longer equals any of the *_version facts and the row is
-- pending again, whoever wrote it (the API, another app's SQL, Salesforce through the hub).
-- Writers never set `sync_status`: Postgres computes it, and refuses a write to it.

ALTER TABLE staging_records
    ADD COLUMN failed_version bigint,
    ADD COLUMN discarded_version bigint;

-- Today's rows, as facts.
UPDATE staging_records SET synced_version = version
    WHERE sync_status IN ('synced', 'deleted');
UPDATE staging_records SET synced_version = NULL
    WHERE sync_status NOT IN ('synced', 'deleted') AND synced_version = version;
UPDATE staging_records SET failed_version = version
    WHERE sync_status IN ('failed', 'discarded');
UPDATE staging_records SET discarded_version = version
    WHERE sync_status = 'discarded';
UPDATE staging_records SET lease_owner = NULL, lease_expires_at = NULL
    WHERE sync_status <> 'in_flight';

-- Dropping the column drops its check constraint and the partial indexes on it.
ALTER TABLE staging_records DROP COLUMN sync_status;
ALTER TABLE staging_records ADD COLUMN sync_status text NOT NULL GENERATED ALWAYS AS (
    CASE
        WHEN lease_owner IS NOT NULL THEN 'in_flight'
        WHEN synced_version = version THEN
            CASE WHEN operation = 'delete' THEN 'deleted' ELSE 'synced' END
        WHEN discarded_version = version THEN 'discarded'
        WHEN failed_version = version THEN 'failed'
        ELSE 'pending'
    END
) STORED;

CREATE INDEX staging_records_due_idx
    ON staging_records (object, next_attempt_at)
    WHERE sync_status = 'pending';
CREATE INDEX staging_records_in_flight_idx
    ON staging_records (lease_expires_at)
    WHERE sync_status = 'in_flight';
CREATE INDEX staging_records_failed_idx
    ON staging_records (object, updated_at)
    WHERE sync_status = 'failed';

-- Content changes: a new version, fresh attempts, and the two ways a change needs no push.
CREATE OR REPLACE FUNCTION staging_records_track_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.fields IS NOT DISTINCT FROM OLD.fields
       AND NEW.operation IS NOT DISTINCT FROM OLD.operation THEN
        RETURN NEW;
    END IF;

    IF TG_OP = 'UPDATE' THEN
        NEW.version := OLD.version + 1;
    END IF;
    NEW.updated_at := now();
    NEW.attempts := 0;
    NEW.next_attempt_at := now();
    NEW.last_error_code := NULL;
    NEW.last_error_message := NULL;
    NEW.last_error_fields := NULL;

    IF NEW.origin = 'salesforce' THEN
        -- Salesforce already has this content: it is never pushed back.
        NEW.synced_version := NEW.version;
        NEW.synced_fields := NEW.fields;
        NEW.synced_at := now();
    ELSIF NEW.operation = 'upsert'
          AND NEW.synced_fields IS NOT NULL
          AND NEW.fields = NEW.synced_fields
          AND NEW.lease_owner IS NULL THEN
        -- Back to what Salesforce already has: nothing to send.
        NEW.synced_version := NEW.version;
    END IF;
    -- A row in flight keeps its lease: when the push's outcome is written, the pushed version is
    -- older than the row's, and the row is pending again.
    RETURN NEW;
END;
$$;
