-- A table's primary key constraint: its name and definition, to drop it for a bulk COPY and
-- add it back once the rows are in.
SELECT k.conname::text, pg_get_constraintdef(k.oid)
FROM pg_constraint k
WHERE k.conrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass
  AND k.contype = 'p'
