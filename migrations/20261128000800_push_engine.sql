-- The push engine: deletions, concurrency permits shared by every dyno, and a record of Bulk jobs.

-- 'deleted': Salesforce no longer has the record (or never had it) after a staged deletion.
ALTER TABLE staging_records DROP CONSTRAINT staging_records_sync_status_check;
ALTER TABLE staging_records ADD CONSTRAINT staging_records_sync_status_check
    CHECK (sync_status IN ('pending', 'in_flight', 'synced', 'failed', 'discarded', 'deleted'));

-- Calls to Salesforce in progress, all dynos together: one row per slot (1..the cap), held by one
-- call until it gives it back or the row expires (its process died). Rows, not advisory locks:
-- a pooler in transaction mode (PgBouncer on Heroku) breaks session locks.
CREATE TABLE salesforce_call_permits (
    slot        integer     NOT NULL,
    holder      text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    CONSTRAINT salesforce_call_permits_pkey PRIMARY KEY (slot)
);

-- API calls granted in the last second, all dynos together: the per-second cap over a sliding
-- window (a calendar-second count lets twice the cap through across a second's boundary). Writers
-- serialize on the salesforce_usage row; rows older than a minute are pruned.
CREATE TABLE salesforce_call_log (
    at timestamptz NOT NULL
);
CREATE INDEX salesforce_call_log_at_idx ON salesforce_call_log (at);
DROP TABLE salesforce_call_seconds;

-- Bulk API 2.0 ingest jobs the scheduler ran, for operators (kept 30 days).
CREATE TABLE push_bulk_jobs (
    job_id          text        NOT NULL,
    object          text        NOT NULL,
    operation       text        NOT NULL,
    state           text        NOT NULL,
    records         integer     NOT NULL,
    succeeded       integer,
    failed          integer,
    unprocessed     integer,
    error_message   text,
    owner           text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CONSTRAINT push_bulk_jobs_pkey PRIMARY KEY (job_id),
    CONSTRAINT push_bulk_jobs_operation_check CHECK (operation IN ('upsert', 'delete'))
);
CREATE INDEX push_bulk_jobs_created_at_idx ON push_bulk_jobs (created_at);
