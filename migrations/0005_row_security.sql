-- Row-level security: the database itself keeps each request inside the user's region, under
-- whatever filters the server adds (crates/gridgov-store/src/scope.rs is the contract).
--
-- Every layer table gets one policy, for every command, on its owning division:
-- `gridgov_in_scope(division_code)` is true when the transaction's `gridgov.scope` setting
-- is '*' (everything: start-up loads, the CLI) or a prefix the code starts with (the user's
-- county, township or village: DivisionCode::prefix). Unset or empty, nothing is visible and
-- nothing can be written. The store sets it with `SET LOCAL` at the start of every
-- transaction. ENABLE and FORCE: the policies hold for the tables' owner too; only a
-- superuser or a BYPASSRLS role gets past them, and `gridgov serve` refuses to run as either
-- (PgStore::connect_server checks, and that the role owns no table).
--
-- The application role: `gridgov_app` (NOLOGIN) holds what a server needs, no more. A server
-- signs in as a login role that is a member of it, e.g.
--   CREATE ROLE gridgov_server LOGIN PASSWORD '…' IN ROLE gridgov_app;
-- It owns nothing, may read and write the layers (under the policies), read and write
-- accounts and sessions, and only INSERT and SELECT the audit log (whose triggers refuse
-- changes for everyone anyway).
--
-- On Citus the policies are created on the coordinator and propagated to the shards with the
-- distributed tables (Citus supports row-level security on distributed tables); the role
-- must exist on every node.

DO $$
BEGIN
  CREATE ROLE gridgov_app NOLOGIN;
EXCEPTION
  -- It is cluster-wide: another database on the server (or a migration racing this one)
  -- made it already.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

CREATE FUNCTION gridgov_in_scope(code text) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT current_setting('gridgov.scope', true) = '*'
        OR (current_setting('gridgov.scope', true) <> ''
            AND starts_with(code, current_setting('gridgov.scope', true)))
  $$;
COMMENT ON FUNCTION gridgov_in_scope(text) IS
  'Whether a row owned by division CODE lies in the transaction''s gridgov.scope';

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'counties', 'townships', 'villages', 'villager_groups', 'grid_plans', 'grids',
    'households', 'persons', 'transfer_stations', 'incinerators', 'collection_points',
    'vehicles', 'cleaners', 'roads', 'water', 'land_use', 'rental_houses', 'tenancies',
    'supervised_persons', 'position_reports', 'disputes'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY gridgov_scope ON %I USING (gridgov_in_scope(division_code)) '
      'WITH CHECK (gridgov_in_scope(division_code))', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO gridgov_app', t);
  END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO gridgov_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO gridgov_app;
GRANT EXECUTE ON FUNCTION gridgov_in_scope(text) TO gridgov_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON gridgov_users, gridgov_sessions TO gridgov_app;
GRANT SELECT ON gridgov_settings, _sqlx_migrations TO gridgov_app;
GRANT SELECT, INSERT ON gridgov_audit TO gridgov_app;

-- PostgreSQL does not use an index for a condition whose operator is not LEAKPROOF once a
-- row-level policy applies (the condition might otherwise see rows the policy hides), and
-- PostGIS does not mark its bounding-box operator `&&` so: every tile and bbox query would
-- scan its whole table. `&&` compares two boxes and raises no error that depends on a row's
-- values, so it is marked LEAKPROOF here. Only a superuser may do that; a migration run by
-- another role warns, and `gridgov serve` warns at start-up until a superuser runs
--   ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
  ELSE
    RAISE WARNING 'gridgov: not a superuser, so geometry_overlaps (&&) stays NOT LEAKPROOF '
      'and spatial indexes go unused under row-level security; ask a superuser to run '
      'ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF';
  END IF;
END
$$;
