-- The org's daily API usage over time, one sample per minute, for the status page's 24 h chart.
-- Filled by a trigger on salesforce_usage, so whoever records usage (any dyno, any code path)
-- feeds the history; two days are kept.
CREATE TABLE salesforce_usage_samples (
    minute  timestamptz NOT NULL,
    used    bigint      NOT NULL,
    max     bigint      NOT NULL,
    CONSTRAINT salesforce_usage_samples_pkey PRIMARY KEY (minute)
);

CREATE FUNCTION salesforce_usage_sample() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.observed_at IS NULL OR NEW.max <= 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO salesforce_usage_samples AS s (minute, used, max)
    VALUES (date_trunc('minute', NEW.observed_at), NEW.used, NEW.max)
    ON CONFLICT ON CONSTRAINT salesforce_usage_samples_pkey
        DO UPDATE SET used = greatest(s.used, EXCLUDED.used), max = EXCLUDED.max;
    DELETE FROM salesforce_usage_samples WHERE minute < now() - interval '48 hours';
    RETURN NULL;
END;
$$;

CREATE TRIGGER salesforce_usage_sample
    AFTER UPDATE OF used, max, observed_at ON salesforce_usage
    FOR EACH ROW EXECUTE FUNCTION salesforce_usage_sample();
