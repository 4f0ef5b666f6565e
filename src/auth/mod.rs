//! Authentication of callers of the hub API (bearer JWTs).
