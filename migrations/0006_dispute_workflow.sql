-- The dispute mediation workflow (gridgov-disputes): a case knows its grid, its parties and,
-- for backlog cases, a responsible leader and a plan (包案领导、一案一策); a case accepted by
-- the level holding it is `accepted`; every step of a case is a row of `dispute_steps` (调处记录),
-- appended by the workflow in the same transaction as the change of the case, never updated.

ALTER TABLE disputes DROP CONSTRAINT IF EXISTS disputes_status_check;
ALTER TABLE disputes ADD CONSTRAINT disputes_status_check
  CHECK (status IN ('open', 'accepted', 'mediating', 'settled', 'closed'));
ALTER TABLE disputes ADD COLUMN grid_code text;
ALTER TABLE disputes ADD COLUMN parties text;
ALTER TABLE disputes ADD COLUMN leader text;
ALTER TABLE disputes ADD COLUMN plan text;

CREATE TABLE dispute_steps (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  dispute_id bigint NOT NULL,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL CHECK (action IN ('report', 'accept', 'mediate', 'resolve', 'fail', 'escalate', 'escalate_overdue', 'assign_leader')),
  status text NOT NULL CHECK (status IN ('open', 'accepted', 'mediating', 'settled', 'closed')),
  level text NOT NULL CHECK (level IN ('village', 'township', 'county')),
  note text,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE dispute_steps IS '调处记录';
CREATE INDEX dispute_steps_division_idx ON dispute_steps (division_code text_pattern_ops);
CREATE INDEX dispute_steps_dispute_idx ON dispute_steps (dispute_id);

ALTER TABLE dispute_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE dispute_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY gridgov_scope ON dispute_steps USING (gridgov_in_scope(division_code))
  WITH CHECK (gridgov_in_scope(division_code));
-- The server appends steps and reads them; it never changes or removes one.
GRANT SELECT, INSERT ON dispute_steps TO gridgov_app;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE dispute_steps_id_seq TO gridgov_app;
