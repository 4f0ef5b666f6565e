-- Salesforce describe answers, cached for every dyno: ingest validates records against them
-- without spending an API call, and a restart reuses them.
CREATE TABLE salesforce_describes (
    object     text        NOT NULL,
    describe   jsonb       NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT salesforce_describes_pkey PRIMARY KEY (object)
);
