-- The planner's estimate of a table's rows (never below 0: an unanalysed table counts as
-- empty). It only decides whether rebuilding the indexes after a bulk COPY pays off, which
-- takes dropping them: a role that does not own the table (a server's) gets infinity, and
-- never tries.
SELECT CASE WHEN pg_has_role(c.relowner, 'USAGE') THEN greatest(c.reltuples, 0)::real
            ELSE 'Infinity'::real END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = $1
