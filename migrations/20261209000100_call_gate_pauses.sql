-- Why every dyno has stopped calling Salesforce, shown by `sluice status`, the status page and
-- `sluice_push_paused{reason}`: 'budget' (Sluice's share of the daily allowance is spent),
-- 'outage' (every call failed the same way: 5xx, refused connections, timeouts) or 'limit'
-- (Salesforce answered REQUEST_LIMIT_EXCEEDED). NULL with an old paused_until is no pause.
ALTER TABLE salesforce_usage
    ADD COLUMN pause_reason text,
    -- Request-level failures in a row, all dynos together; any answer resets it.
    ADD COLUMN failures_in_a_row integer NOT NULL DEFAULT 0,
    -- The current outage pause's length, doubled after each failed probe.
    ADD COLUMN outage_backoff_ms integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT salesforce_usage_pause_reason_check
        CHECK (pause_reason IN ('budget', 'outage', 'limit'));
