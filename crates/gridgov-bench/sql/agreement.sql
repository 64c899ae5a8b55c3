-- For each point of the arrays $1 (longitudes) and $2 (latitudes), in order (i from 1):
-- the ids of the grids of the plan in force that contain it, ascending (empty for none),
-- and the geodesic metres (WGS84 spheroid) to the nearest transfer station.
SELECT p.i,
       coalesce((SELECT array_agg(g.id ORDER BY g.id)
                 FROM grids g
                 JOIN grid_plans gp ON gp.id = g.plan_id
                 WHERE gp.status = 'effective'
                   AND ST_Contains(g.geom, p.pt)), '{}'::bigint[]) AS grids,
       (SELECT min(ST_Distance(t.geom::geography, p.pt::geography))
        FROM transfer_stations t) AS station_m
FROM (SELECT u.i, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326) AS pt
      FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(lon, lat, i)) p
ORDER BY p.i
