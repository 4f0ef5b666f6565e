-- The ingest inbox (issue 13). A request of many records is answered once its records are durable
-- here, an append-only table with no index but its key, and merged into staging_records moments
-- later by set-based statements off the request path (src/staging/inbox.rs). Writing a row here
-- costs a fraction of an upsert into staging_records, whose unique key, queue indexes and triggers
-- are what set the pace of ingest.
--
-- Logged, not UNLOGGED: an unlogged table is emptied after a crash, and a record answered
-- "accepted" must survive one.
CREATE TABLE staging_inbox (
    seq         bigint      GENERATED ALWAYS AS IDENTITY,
    object      text        NOT NULL,
    external_id text        NOT NULL,
    -- Normalized fields as JSON text: parsed once, by the merge.
    fields      text        NOT NULL,
    -- When the record was written here, before its transaction committed: a change made to the row
    -- by another writer in a transaction that started later may be newer, and wins over it.
    accepted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT staging_inbox_pkey PRIMARY KEY (seq)
);

-- One row, locked by the merge for its transaction: merges from several dynos take the inbox in
-- turn, in the order it was written (a row lock, not an advisory lock: a transaction-mode pooler
-- breaks those).
CREATE TABLE staging_inbox_merge (
    id        boolean     NOT NULL DEFAULT true,
    merged_at timestamptz,
    CONSTRAINT staging_inbox_merge_pkey PRIMARY KEY (id),
    CONSTRAINT staging_inbox_merge_one_row CHECK (id)
);
INSERT INTO staging_inbox_merge (id) VALUES (true);

-- When another writer than the merge last changed a hub row's content (an app's SQL, a record
-- posted one by one, a deletion), as the start of its transaction. The merge puts an inbox record
-- accepted before that moment under the row's fields, not over them: the other write may be
-- newer. Salesforce's own versions (origin 'salesforce') and push outcomes don't set it.
ALTER TABLE staging_records ADD COLUMN direct_at timestamptz;

CREATE FUNCTION staging_records_mark_direct() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.origin = 'hub'
       AND current_setting('sluice.merging', true) IS DISTINCT FROM 'on'
       AND (TG_OP = 'INSERT'
            OR NEW.fields IS DISTINCT FROM OLD.fields
            OR NEW.operation IS DISTINCT FROM OLD.operation) THEN
        NEW.direct_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER staging_records_mark_direct
    BEFORE INSERT OR UPDATE ON staging_records
    FOR EACH ROW EXECUTE FUNCTION staging_records_mark_direct();

-- Several inbox records of one row are merged field by field, in the order they came. No initial
-- value: over no rows it is NULL, not an empty object.
CREATE AGGREGATE staging_fields_merge(jsonb) (
    SFUNC = jsonb_concat,
    STYPE = jsonb
);
