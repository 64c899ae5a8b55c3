-- One layer of a vector tile. {table} and {columns} are filled from the model's schema
-- (gridgov-tiles), never from input. $1-$3 are z, x, y; $4 the simplification tolerance in
-- metres (0: none, only ST_AsMVTGeom's snapping to the grid); $5-$8 the tile's search area in
-- WGS84 (min lon, min lat, max lon, max lat: gridgov_tiles::search_area, as transforming a
-- buffered ST_TileEnvelope to 4326 wraps longitudes past the antimeridian); $9 the prefix of
-- the owning division codes the user may see ('' for all: DivisionCode::prefix); {gate}
-- sets the row-level security scope ($10) for the statement (postgis/mod.rs: gate);
-- {filter} is empty or a further condition of the layer (grids: the plan in force).
-- No `WHERE geom IS NOT NULL` outside: ST_AsMVT skips rows whose geometry ST_AsMVTGeom
-- dropped, and PostgreSQL pushes such a filter into the scan, computing ST_AsMVTGeom twice.
SELECT ST_AsMVT(t, '{table}', 4096, 'geom', 'id')
FROM (
  SELECT "id",
         ST_AsMVTGeom(
           CASE WHEN $4 > 0 THEN ST_Simplify(ST_Transform("geom", 3857), $4, true)
                ELSE ST_Transform("geom", 3857) END,
           ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom,
         {columns}
  FROM "{table}"
  WHERE {gate}
    AND "geom" && ST_MakeEnvelope($5, $6, $7, $8, 4326)
    AND starts_with("division_code", $9){filter}
) AS t
