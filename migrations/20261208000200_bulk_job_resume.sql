-- A Bulk API 2.0 job is never submitted twice (docs/salesforce.md §5.5): its rows stay tied to it
-- until its results are written, whatever happens to the process following it, and another dyno
-- takes the job over (a lease on its row) and resumes polling that same job.

-- The job a row was sent in, and the version sent; cleared when its outcome is written. Rows tied
-- to a job are never claimed for another push, even after their lease expired.
ALTER TABLE staging_records
    ADD COLUMN bulk_job_id text,
    ADD COLUMN bulk_version bigint;
CREATE INDEX staging_records_bulk_job_idx
    ON staging_records (bulk_job_id)
    WHERE bulk_job_id IS NOT NULL;

-- Who follows the job, until when; `finished_at` is set once its rows' outcomes are written.
ALTER TABLE push_bulk_jobs
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_expires_at timestamptz;
-- Jobs recorded before this migration have no rows tied to them: nothing to resume.
UPDATE push_bulk_jobs SET finished_at = coalesce(finished_at, updated_at);
CREATE INDEX push_bulk_jobs_unfinished_idx
    ON push_bulk_jobs (lease_expires_at)
    WHERE finished_at IS NULL;
