-- Grid plans are read by everyone in their township. A township's plan holds the grids of all
-- its villages, and a village officer's map draws the grids of the plan in force: the tile
-- statement (crates/gridgov-store/src/postgis/tiles.rs) joins a grid to its plan's row, which
-- the village scope of migration 0005 would hide. This second policy (policies for the same
-- command are OR-ed) lets a scope inside a township SELECT that township's plan rows, and only
-- SELECT: writing a plan stays with its own division's scope. A plan row holds its name,
-- status, dates, request and per-grid totals (households per grid), nothing about a person.

CREATE POLICY gridgov_township_reads ON grid_plans FOR SELECT
  USING (current_setting('gridgov.scope', true) <> ''
         AND starts_with(current_setting('gridgov.scope', true), shard_key));
