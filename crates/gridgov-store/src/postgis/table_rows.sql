-- The planner's estimate of a table's rows (never below 0: an unanalysed table counts as
-- empty). It only decides whether rebuilding the indexes after a bulk COPY pays off.
SELECT greatest(c.reltuples, 0)::real
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = $1
