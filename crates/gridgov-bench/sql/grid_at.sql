-- The grid of the plan in force that holds the point ($1 longitude, $2 latitude, WGS84),
-- smallest id first: one point per query, through the GiST index on grids.geom.
SELECT g.id
FROM grids g
JOIN grid_plans p ON p.id = g.plan_id
WHERE p.status = 'effective'
  AND ST_Contains(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
ORDER BY g.id
LIMIT 1
