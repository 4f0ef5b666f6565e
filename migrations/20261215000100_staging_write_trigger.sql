-- One row trigger instead of three on staging_records, and none at all on an update that changes
-- neither a row's content nor its Salesforce id (a claim, a lease, an outcome): the WHEN clause is
-- evaluated without calling PL/pgSQL. What each did is unchanged; the three set different columns
-- and read none that another sets, so their order never mattered. A merge of the ingest inbox, a
-- Bulk job's claim and an outcome's write all paid for three calls a row before.

CREATE FUNCTION staging_records_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    content_changed boolean := TG_OP = 'INSERT'
        OR NEW.fields IS DISTINCT FROM OLD.fields
        OR NEW.operation IS DISTINCT FROM OLD.operation;
BEGIN
    -- A write of the hub's own (the API, an app's SQL), not a merge of the inbox: inbox records
    -- accepted before it go under its fields (staging::inbox::merge).
    IF content_changed AND NEW.origin = 'hub'
       AND current_setting('sluice.merging', true) IS DISTINCT FROM 'on' THEN
        NEW.direct_at := now();
    END IF;

    -- The transaction that changed the row: the changes feed's cursor.
    IF content_changed OR NEW.salesforce_id IS DISTINCT FROM OLD.salesforce_id THEN
        NEW.change_xid := pg_current_xact_id()::text::bigint;
    END IF;

    IF NOT content_changed THEN
        RETURN NEW;
    END IF;

    -- A new version to push.
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

DROP TRIGGER staging_records_mark_direct ON staging_records;
DROP TRIGGER staging_records_stamp_change ON staging_records;
DROP TRIGGER staging_records_track_change ON staging_records;
DROP FUNCTION staging_records_mark_direct();
DROP FUNCTION staging_records_stamp_change();
DROP FUNCTION staging_records_track_change();

CREATE TRIGGER staging_records_before_insert
    BEFORE INSERT ON staging_records
    FOR EACH ROW EXECUTE FUNCTION staging_records_before_write();

CREATE TRIGGER staging_records_before_update
    BEFORE UPDATE ON staging_records
    FOR EACH ROW
    WHEN (NEW.fields IS DISTINCT FROM OLD.fields
          OR NEW.operation IS DISTINCT FROM OLD.operation
          OR NEW.salesforce_id IS DISTINCT FROM OLD.salesforce_id)
    EXECUTE FUNCTION staging_records_before_write();
