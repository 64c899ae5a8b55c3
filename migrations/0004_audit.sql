-- The audit log (crates/gridgov-store/src/audit.rs is the contract): who did what to which
-- object, when, from where, with what result. Append-only and hash-chained: each row holds
-- the SHA-256 of the row before (`prev_hash`, zeros for the first) and its own hash over that
-- and its fields; `gridgov audit verify` recomputes the chain. `seq` is given by the writer
-- (the last + 1, in the inserting transaction), so the numbers have no gaps; two writers
-- that race for the same number meet the primary key and the loser tries again.
--
-- Rows can be neither changed nor removed: the triggers below refuse UPDATE, DELETE and
-- TRUNCATE for everyone, the table's owner included (only an owner who first drops or
-- disables a trigger gets past, and the chain then shows what was changed). The application
-- role is granted INSERT and SELECT only.
--
-- On Citus this table stays on the coordinator (a local table, not distributed: the chain is
-- one sequence); every server appends through the coordinator.

CREATE TABLE gridgov_audit (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  object text NOT NULL,
  source text NOT NULL,
  result text NOT NULL,
  -- JSON as text, not jsonb: the hash covers the bytes as written.
  detail text NOT NULL,
  prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);
COMMENT ON TABLE gridgov_audit IS '审计日志';

CREATE FUNCTION gridgov_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'gridgov_audit is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER gridgov_audit_no_change BEFORE UPDATE OR DELETE ON gridgov_audit
  FOR EACH ROW EXECUTE FUNCTION gridgov_audit_append_only();
CREATE TRIGGER gridgov_audit_no_truncate BEFORE TRUNCATE ON gridgov_audit
  FOR EACH STATEMENT EXECUTE FUNCTION gridgov_audit_append_only();
