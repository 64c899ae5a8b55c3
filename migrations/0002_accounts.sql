-- User accounts and login sessions (crates/gridgov-store/src/accounts.rs: the `Accounts`
-- trait is the contract). They are kept in the database, not in a server's memory, so that
-- every server on it shares them and a revoked session is revoked everywhere. The store keeps
-- what it is given: password hashing (PHC strings), tokens (only their SHA-256 is stored),
-- timeouts and lockouts are the server's.
--
-- On Citus these two small tables are reference tables, copied whole to every node, not
-- distributed (they have no shard key and every node may check a session):
--   SELECT create_reference_table('gridgov_users');
--   SELECT create_reference_table('gridgov_sessions');
-- (users first: the sessions' foreign key points at them).

CREATE TABLE gridgov_users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  -- The six role tokens of gridgov-model's `Role` (vocab.rs).
  role text NOT NULL CHECK (role IN ('county_admin', 'township_officer', 'village_officer',
                                     'grid_worker', 'command_screen', 'judicial_officer')),
  -- A 12-digit division code or a grid code (`520526101201-G01`); the model checks the rest.
  scope text NOT NULL,
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE gridgov_users IS '用户';

CREATE TABLE gridgov_sessions (
  token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  user_id bigint NOT NULL REFERENCES gridgov_users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
COMMENT ON TABLE gridgov_sessions IS '登录会话';
CREATE INDEX gridgov_sessions_user_id_idx ON gridgov_sessions (user_id);
