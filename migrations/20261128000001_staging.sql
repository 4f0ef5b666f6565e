-- Staging: one row per Salesforce record the hub knows, keyed by (object, external_id).
-- Other apps may read and write this table with plain SQL; the triggers below keep the sync
-- bookkeeping right whoever writes, and notify the push scheduler.

CREATE TABLE staging_records (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object              text        NOT NULL,
    external_id         text        NOT NULL,
    -- The record's current normalized fields, by Salesforce API name (external id field included).
    fields              jsonb       NOT NULL DEFAULT '{}'::jsonb,
    -- 'upsert' sends the fields; 'delete' removes the record in Salesforce.
    operation           text        NOT NULL DEFAULT 'upsert',
    salesforce_id       text,
    -- pending: waiting to be pushed; in_flight: claimed by a scheduler (see lease_*);
    -- synced: Salesforce has this version; failed: Salesforce refused this version (see last_error_*);
    -- discarded: an operator gave up on this failed version (a new change makes it pending again).
    sync_status         text        NOT NULL DEFAULT 'pending',
    -- Bumped by the trigger on every change of fields or operation.
    version             bigint      NOT NULL DEFAULT 1,
    synced_version      bigint,
    -- What Salesforce was last sent successfully: a change back to these values sends nothing.
    synced_fields       jsonb,
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error_code     text,
    last_error_message  text,
    last_error_fields   text[],
    lease_owner         text,
    lease_expires_at    timestamptz,
    -- 'hub' for changes that came into Sluice; 'salesforce' for changes Salesforce sent back
    -- (those are never pushed to Salesforce again).
    origin              text        NOT NULL DEFAULT 'hub',
    received_at         timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    synced_at           timestamptz,
    CONSTRAINT staging_records_object_external_id_key UNIQUE (object, external_id),
    CONSTRAINT staging_records_external_id_not_blank CHECK (btrim(external_id) <> ''),
    CONSTRAINT staging_records_fields_is_object CHECK (jsonb_typeof(fields) = 'object'),
    CONSTRAINT staging_records_operation_check CHECK (operation IN ('upsert', 'delete')),
    CONSTRAINT staging_records_sync_status_check
        CHECK (sync_status IN ('pending', 'in_flight', 'synced', 'failed', 'discarded')),
    CONSTRAINT staging_records_origin_check CHECK (origin IN ('hub', 'salesforce'))
);

-- The scheduler's claim query: due pending rows, oldest first, per object.
CREATE INDEX staging_records_due_idx
    ON staging_records (object, next_attempt_at)
    WHERE sync_status = 'pending';
-- Leases to reclaim after a crash.
CREATE INDEX staging_records_in_flight_idx
    ON staging_records (lease_expires_at)
    WHERE sync_status = 'in_flight';
CREATE INDEX staging_records_failed_idx
    ON staging_records (object, updated_at)
    WHERE sync_status = 'failed';
CREATE INDEX staging_records_salesforce_id_idx
    ON staging_records (salesforce_id)
    WHERE salesforce_id IS NOT NULL;

-- Every change of a record's content, through the API or straight SQL, goes through here.
CREATE FUNCTION staging_records_track_change() RETURNS trigger
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
        -- Salesforce already has this content: record it as synced, never push it back.
        NEW.sync_status := 'synced';
        NEW.synced_version := NEW.version;
        NEW.synced_fields := NEW.fields;
        NEW.synced_at := now();
    ELSIF NEW.operation = 'upsert'
          AND NEW.synced_fields IS NOT NULL
          AND NEW.fields = NEW.synced_fields
          AND (NEW.sync_status <> 'in_flight' OR NEW.lease_expires_at IS NULL) THEN
        -- Back to what Salesforce already has: nothing to send.
        NEW.sync_status := 'synced';
        NEW.synced_version := NEW.version;
    ELSIF NEW.sync_status <> 'in_flight' THEN
        NEW.sync_status := 'pending';
    END IF;
    -- An in-flight row keeps its status and lease: the scheduler sees version > pushed version
    -- when it writes the outcome and puts the row back to pending then.
    RETURN NEW;
END;
$$;

CREATE TRIGGER staging_records_track_change
    BEFORE INSERT OR UPDATE ON staging_records
    FOR EACH ROW EXECUTE FUNCTION staging_records_track_change();

-- Wake the schedulers (LISTEN sluice_pending) once per statement that left pending rows.
CREATE FUNCTION staging_records_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed WHERE sync_status = 'pending') THEN
        PERFORM pg_notify('sluice_pending', '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER staging_records_notify_insert
    AFTER INSERT ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_notify();

CREATE TRIGGER staging_records_notify_update
    AFTER UPDATE ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_notify();

-- Answers to ingest requests, so that a retried request (same Idempotency-Key) gets the first answer.
CREATE TABLE ingest_requests (
    idempotency_key text        NOT NULL,
    caller          text        NOT NULL,
    request_hash    text        NOT NULL,
    status_code     smallint    NOT NULL,
    response        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ingest_requests_pkey PRIMARY KEY (caller, idempotency_key)
);

-- API calls made to Salesforce, one row per second, shared by every dyno: the per-second cap.
CREATE TABLE salesforce_call_seconds (
    second timestamptz NOT NULL,
    calls  integer     NOT NULL,
    CONSTRAINT salesforce_call_seconds_pkey PRIMARY KEY (second)
);

-- The org's daily API usage as last seen (Sforce-Limit-Info or /limits), and a pause set after
-- REQUEST_LIMIT_EXCEEDED; one row, shared by every dyno.
CREATE TABLE salesforce_usage (
    id            boolean     NOT NULL DEFAULT true,
    used          bigint      NOT NULL DEFAULT 0,
    max           bigint      NOT NULL DEFAULT 0,
    observed_at   timestamptz,
    paused_until  timestamptz,
    CONSTRAINT salesforce_usage_pkey PRIMARY KEY (id),
    CONSTRAINT salesforce_usage_single_row CHECK (id)
);
INSERT INTO salesforce_usage (id) VALUES (true);
