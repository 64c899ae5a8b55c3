-- A table's indexes that no constraint owns (not the primary key, not UNIQUE constraints),
-- with the statements that recreate them.
SELECT i.indexname::text, i.indexdef::text
FROM pg_indexes i
WHERE i.schemaname = current_schema()
  AND i.tablename = $1
  AND NOT EXISTS (
    SELECT 1 FROM pg_constraint k
    WHERE k.conname = i.indexname AND k.conrelid = (quote_ident(i.schemaname) || '.' || quote_ident(i.tablename))::regclass
  )
ORDER BY i.indexname
