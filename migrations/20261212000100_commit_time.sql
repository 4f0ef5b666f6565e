-- The batch window counts from the moment a change is committed, not from its transaction's start
-- (now()): a long ingest transaction's rows would otherwise look quiet the moment they commit, and
-- the next update of the same records, a few hundred milliseconds later, would cost a second call
-- (issue 12, item 3). PostgreSQL keeps no commit time unless track_commit_timestamp is on, which
-- Heroku Postgres does not let us set, so each transaction that changes hub rows stamps its own:
-- a row here per transaction (xid as in staging_records.change_xid), and a deferred trigger that
-- writes the time as the transaction commits. A transaction that rolls back leaves no row.
-- The planner reads coalesce(committed_at, updated_at); rows are pruned after a day.
CREATE TABLE staging_commits (
    xid          bigint      NOT NULL,
    committed_at timestamptz,
    CONSTRAINT staging_commits_pkey PRIMARY KEY (xid)
);

CREATE FUNCTION staging_records_note_transaction() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed AS c
               WHERE c.change_xid = pg_current_xact_id()::text::bigint AND c.origin = 'hub') THEN
        INSERT INTO staging_commits (xid) VALUES (pg_current_xact_id()::text::bigint)
        ON CONFLICT (xid) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER staging_records_note_transaction_insert
    AFTER INSERT ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_note_transaction();

CREATE TRIGGER staging_records_note_transaction_update
    AFTER UPDATE ON staging_records
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION staging_records_note_transaction();

-- Runs at COMMIT (deferred), once per transaction: its clock_timestamp() is the commit time to
-- within the few statements of the commit itself.
CREATE FUNCTION staging_commits_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staging_commits SET committed_at = clock_timestamp() WHERE xid = NEW.xid;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER staging_commits_stamp
    AFTER INSERT ON staging_commits
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION staging_commits_stamp();
