-- Store-wide settings. `tag_key` is the secret that entity tags (ETag, If-Match) are keyed
-- with (gridgov-model `Feature::etag`): a tag is a hash of the whole stored feature, masked
-- fields included, so without a secret anyone could test guesses of a masked ID-card number
-- against the tag. 256 random bits from PostgreSQL's strong random source (gen_random_uuid,
-- PostgreSQL 13+), made once; every server on the database reads the same key, so tags agree
-- across servers and restarts.
--
-- On Citus this is a reference table: SELECT create_reference_table('gridgov_settings');

CREATE TABLE gridgov_settings (
  name text PRIMARY KEY,
  value text NOT NULL
);

INSERT INTO gridgov_settings (name, value)
VALUES ('tag_key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
