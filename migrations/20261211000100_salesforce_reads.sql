-- Reading Salesforce's changes into staging_records (src/read/).

-- One row per declared read: where it stands, who runs it, and what it cost. A lease (not an
-- advisory lock: a transaction-mode pooler breaks those) gives an object's read to one dyno at a
-- time; a dyno that dies leaves its lease to expire and another takes the next read.
CREATE TABLE salesforce_reads (
    object            text        NOT NULL,
    -- The largest SystemModstamp read so far (Salesforce's clock); the next read asks from this
    -- minus the overlap window. NULL until the first load is done.
    watermark         timestamptz,
    -- The Bulk API 2.0 query job of an unfinished first load, resumed by the next read.
    first_load_job    text,
    first_load_done   boolean     NOT NULL DEFAULT false,
    lease_owner       text,
    lease_expires_at  timestamptz,
    -- The last read that started, and the last one that finished without error (database clock).
    last_started_at   timestamptz,
    last_read_at      timestamptz,
    -- When the last finished read started: everything Salesforce committed before it (less the
    -- overlap for long transactions) is in staging_records.
    read_through      timestamptz,
    last_error        text,
    reads             bigint      NOT NULL DEFAULT 0,
    rows_read         bigint      NOT NULL DEFAULT 0,
    calls             bigint      NOT NULL DEFAULT 0,
    -- Calls spent today (UTC), against the reads' share of the daily budget.
    calls_day         date,
    calls_today       bigint      NOT NULL DEFAULT 0,
    CONSTRAINT salesforce_reads_pkey PRIMARY KEY (object),
    CONSTRAINT salesforce_reads_lease_check CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);

-- The SystemModstamp of the Salesforce version a read last stored: an older one is not stored.
ALTER TABLE staging_records ADD COLUMN salesforce_modstamp timestamptz;

-- The transaction that last changed a row's content (fields, operation, Salesforce Id), as a
-- 64-bit transaction id: the changes feed's cursor. Rows are read only below the oldest running
-- transaction (pg_snapshot_xmin), so a feed reader never moves past a change still uncommitted.
-- Existing rows start at 0 (no table rewrite).
ALTER TABLE staging_records ADD COLUMN change_xid bigint NOT NULL DEFAULT 0;
CREATE INDEX staging_records_changes_idx ON staging_records (object, change_xid, id);

CREATE FUNCTION staging_records_stamp_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR NEW.fields IS DISTINCT FROM OLD.fields
       OR NEW.operation IS DISTINCT FROM OLD.operation
       OR NEW.salesforce_id IS DISTINCT FROM OLD.salesforce_id THEN
        NEW.change_xid := pg_current_xact_id()::text::bigint;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER staging_records_stamp_change
    BEFORE INSERT OR UPDATE ON staging_records
    FOR EACH ROW EXECUTE FUNCTION staging_records_stamp_change();

-- SQL listeners hear of changes per object: LISTEN sluice_changes_<object in lower case>
-- (sluice_changes_contact, sluice_changes_invoice__c); the payload is the origin of the change
-- ('salesforce' or 'hub'). Read what changed with GET /v1/objects/{object}/changes.
CREATE FUNCTION staging_records_notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_object record;
BEGIN
    FOR changed_object IN
        SELECT DISTINCT c.object, c.origin FROM changed AS c
        WHERE c.change_xid = pg_current_xact_id()::text::bigint
    LOOP
        PERFORM pg_notify(left('sluice_changes_' || lower(changed_object.object), 63),
                          changed_object.origin);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER staging_records_notify_changes_insert
    AFTER INSERT ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_notify_changes();

CREATE TRIGGER staging_records_notify_changes_update
    AFTER UPDATE ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_notify_changes();

-- The fields of a Salesforce version that may be stored on a row, field by field (the no-lost-
-- update rule, docs/salesforce.md §18): a field is left out when the hub holds a change of it not
-- yet pushed, or when the hub pushed it after the read began (what the read saw is older).
CREATE FUNCTION staging_salesforce_fresh(
    current_fields jsonb,
    synced_fields  jsonb,
    status         text,
    origin         text,
    synced_at      timestamptz,
    incoming       jsonb,
    read_started   timestamptz
) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_object_agg(i.key, i.value), '{}'::jsonb)
    FROM jsonb_each(incoming) AS i
    WHERE NOT (
        (status NOT IN ('synced', 'deleted')
            AND (current_fields -> i.key) IS DISTINCT FROM (synced_fields -> i.key))
        OR (read_started IS NOT NULL AND origin = 'hub' AND synced_at > read_started
            AND synced_fields ? i.key)
    )
$$;
