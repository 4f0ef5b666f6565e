-- Records of an unanswered sObject Collections call (a timeout, a connection lost after sending,
-- a process killed mid-call) may still be written by Salesforce until its own request time limit
-- (10 minutes, docs/salesforce.md §6.3). Until then no version of them is sent again, so that the
-- old request can never land after a newer version.
--
-- Set when a batch is claimed for a collections call (now + the hold), cleared when Salesforce's
-- answer is written; kept when the call went unanswered. Rows held this way are not due.
ALTER TABLE staging_records ADD COLUMN unanswered_until timestamptz;
