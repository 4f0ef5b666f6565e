-- Other ways in: signed webhook events and scheduled pulls from JSON APIs (src/sources/).

-- Every webhook event accepted, once per (source, event id): the primary key is the dedupe, and
-- the row is written in the transaction that stages the event's records, so an event answered
-- 2xx has its records staged and its raw body kept, or neither. Kept 30 days, longer than any
-- sender retries (Stripe: 3 days, Shopify: 4 hours).
CREATE TABLE webhook_events (
    source       text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text,
    -- processed: its records went through the mappings (some may have been rejected);
    -- ignored: no object of the source takes this event type (the body is not kept).
    status       text        NOT NULL,
    -- The body exactly as signed, to replay it through a corrected mapping.
    body         bytea,
    staged       integer     NOT NULL DEFAULT 0,
    unchanged    integer     NOT NULL DEFAULT 0,
    rejected     integer     NOT NULL DEFAULT 0,
    -- Why records were rejected (the first 100 problems), for operators.
    problems     jsonb,
    received_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_events_pkey PRIMARY KEY (source, event_id),
    CONSTRAINT webhook_events_status_check CHECK (status IN ('processed', 'ignored'))
);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);

-- One row per declared pull: where it stands and who runs it. A lease (not an advisory lock: a
-- transaction-mode pooler breaks those) gives a pull to one dyno at a time; a dyno that dies
-- leaves its lease to expire, and the next one resumes where the last committed page left off.
CREATE TABLE source_pulls (
    source            text        NOT NULL,
    -- The largest watermark value seen by the last complete run, sent as the API's
    -- `updated_since`-style parameter by the next one.
    watermark         text,
    -- Where an unfinished run goes on (the next page, the watermark it started from, the largest
    -- value seen so far); NULL between runs. Written with each page's records.
    resume            jsonb,
    next_run_at       timestamptz NOT NULL DEFAULT now(),
    -- Consecutive failed runs, for the retry backoff.
    failures          integer     NOT NULL DEFAULT 0,
    -- An operator asked for a run now (status page, `sluice pull`).
    run_requested_at  timestamptz,
    lease_owner       text,
    lease_expires_at  timestamptz,
    CONSTRAINT source_pulls_pkey PRIMARY KEY (source),
    CONSTRAINT source_pulls_lease_check CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);

-- Each run of a pull, for operators (kept 30 days).
CREATE TABLE source_pull_runs (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    source          text        NOT NULL,
    owner           text        NOT NULL,
    -- running; succeeded; failed (a page failed past its retries, or the API refused);
    -- interrupted (its dyno stopped or died; the next run resumed it).
    status          text        NOT NULL DEFAULT 'running',
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    pages           integer     NOT NULL DEFAULT 0,
    records_read    integer     NOT NULL DEFAULT 0,
    staged          integer     NOT NULL DEFAULT 0,
    unchanged       integer     NOT NULL DEFAULT 0,
    rejected        integer     NOT NULL DEFAULT 0,
    page_retries    integer     NOT NULL DEFAULT 0,
    watermark_from  text,
    watermark_to    text,
    error           text,
    CONSTRAINT source_pull_runs_pkey PRIMARY KEY (id),
    CONSTRAINT source_pull_runs_source_fkey FOREIGN KEY (source)
        REFERENCES source_pulls (source) ON DELETE CASCADE,
    CONSTRAINT source_pull_runs_status_check
        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))
);
CREATE INDEX source_pull_runs_source_started_idx ON source_pull_runs (source, started_at DESC);
