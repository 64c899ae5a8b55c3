-- Route plans (gridgov-routing through the server's /api/v1/route-plans and `gridgov route`):
-- a township's garbage collection on one day. The plan row carries the request, the
-- computation's state, progress and heartbeat (as partition plans do, migration 0007), and
-- the totals, per-vehicle figures and the points left unassigned with their reasons; each
-- vehicle's route is a row of `routes` with its road geometry and ordered stops, owned by the
-- vehicle's area (its village, or the township for a truck). Both are sharded on the
-- township like every layer (`shard_key`, migration 0001).

CREATE TABLE route_plans (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text NOT NULL,
  service_date date NOT NULL,
  created_on date NOT NULL,
  parameters text,
  job text CHECK (job IN ('running', 'done', 'failed')),
  progress bigint CHECK (progress >= 0 AND progress <= 100),
  job_error text,
  heartbeat timestamptz,
  summary text,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  -- A failed computation says why.
  CONSTRAINT route_plans_failure_explained CHECK (job IS DISTINCT FROM 'failed' OR job_error IS NOT NULL)
);
COMMENT ON TABLE route_plans IS '清运计划';
CREATE INDEX route_plans_division_idx ON route_plans (division_code text_pattern_ops);

CREATE TABLE routes (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(LineString, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  plan_id bigint NOT NULL,
  vehicle_id bigint NOT NULL,
  plate text,
  vehicle_kind text NOT NULL CHECK (vehicle_kind IN ('tricycle', 'truck')),
  stops bigint NOT NULL CHECK (stops >= 0),
  trips bigint NOT NULL CHECK (trips >= 0),
  collected_kg double precision NOT NULL CHECK (collected_kg >= 0),
  distance_m double precision NOT NULL CHECK (distance_m >= 0),
  duration_s bigint NOT NULL CHECK (duration_s >= 0),
  schedule text NOT NULL,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE routes IS '清运路线';
CREATE INDEX routes_geom_idx ON routes USING gist (geom);
CREATE INDEX routes_division_idx ON routes (division_code text_pattern_ops);
CREATE INDEX routes_plan_idx ON routes (shard_key, plan_id);

-- Row-level security as for every layer (migration 0005).
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['route_plans', 'routes'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY gridgov_scope ON %I USING (gridgov_in_scope(division_code)) '
      'WITH CHECK (gridgov_in_scope(division_code))', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO gridgov_app', t);
  END LOOP;
END
$$;
GRANT USAGE, SELECT, UPDATE ON route_plans_id_seq, routes_id_seq TO gridgov_app;
