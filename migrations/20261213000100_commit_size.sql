-- How many hub rows each transaction changed, beside its commit time (issue 12, item 7). While a
-- Bulk job runs, sObject Collections calls take the changes of small transactions first: a record
-- saved in an app or a short request, not the tail of an import that comes in requests of
-- hundreds of rows and can wait for the next job. Counted by the statement triggers that already
-- note each transaction, from their transition tables.
ALTER TABLE staging_commits ADD COLUMN changes integer NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION staging_records_note_transaction() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    n integer;
BEGIN
    SELECT count(*) INTO n FROM changed AS c WHERE c.change_xid = tx AND c.origin = 'hub';
    IF n > 0 THEN
        INSERT INTO staging_commits AS s (xid, changes) VALUES (tx, n)
        ON CONFLICT (xid) DO UPDATE SET changes = s.changes + EXCLUDED.changes;
    END IF;
    RETURN NULL;
END;
$$;
