-- gridgov's PostGIS schema. It mirrors the model (crates/gridgov-model/src/layer.rs); the
-- store's conformance tests compare the two, column by column.
--
-- Every table: `id` (the feature id), `shard_key` (the 9-digit township part of
-- `division_code`, in the primary key `(id, shard_key)` so that Citus can distribute every
-- table on it, colocated, while the key still finds a feature by id alone), a typed geometry
-- column in EPSG:4326 with a GiST index, `division_code` (the owning division) and one
-- column per field. Rules that the database can hold cheaply are
-- repeated here as constraints (codes nested in their division, vocabularies, dates in order);
-- the model checks the rest (ID-card checksums, containment, references) before any write.
-- Twelve-digit codes are checked with length() and ltrim() rather than a regular expression,
-- which would cost more than all the other checks of a bulk COPY together. For the same
-- reason the database checks only that coordinates lie in range (NaN fails too); OGC validity
-- is the model's check before every write, since ST_IsValid hands each geometry to GEOS and
-- cost more than the rest of a COPY of polygons.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE counties (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  code text NOT NULL,
  name text NOT NULL,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (code = division_code AND code ~ '^[0-9]{6}000000$'),
  UNIQUE (shard_key, code)
);
COMMENT ON TABLE counties IS '县';
CREATE INDEX counties_geom_idx ON counties USING gist (geom);
CREATE INDEX counties_division_idx ON counties (division_code text_pattern_ops);

CREATE TABLE townships (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  code text NOT NULL,
  name text NOT NULL,
  kind text CHECK (kind IN ('township', 'town', 'subdistrict')),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (code = division_code AND code ~ '^[0-9]{9}000$' AND code !~ '000000$'),
  UNIQUE (shard_key, code)
);
COMMENT ON TABLE townships IS '乡镇';
CREATE INDEX townships_geom_idx ON townships USING gist (geom);
CREATE INDEX townships_division_idx ON townships (division_code text_pattern_ops);

CREATE TABLE villages (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  code text NOT NULL,
  name text NOT NULL,
  kind text CHECK (kind IN ('village', 'community')),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (code = division_code AND code !~ '000$'),
  UNIQUE (shard_key, code)
);
COMMENT ON TABLE villages IS '行政村/社区';
CREATE INDEX villages_geom_idx ON villages USING gist (geom);
CREATE INDEX villages_division_idx ON villages (division_code text_pattern_ops);

CREATE TABLE villager_groups (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  code text NOT NULL,
  name text NOT NULL,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (code ~ ('^' || division_code || '-[0-9]{2,3}$')),
  UNIQUE (shard_key, code)
);
COMMENT ON TABLE villager_groups IS '村民小组';
CREATE INDEX villager_groups_geom_idx ON villager_groups USING gist (geom);
CREATE INDEX villager_groups_division_idx ON villager_groups (division_code text_pattern_ops);

CREATE TABLE grid_plans (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'approved', 'effective', 'superseded')),
  created_on date NOT NULL,
  effective_from date,
  note text,
  PRIMARY KEY (id, shard_key),
  CHECK (effective_from >= created_on),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (status <> 'effective' OR effective_from IS NOT NULL)
);
COMMENT ON TABLE grid_plans IS '网格划分方案';
CREATE INDEX grid_plans_division_idx ON grid_plans (division_code text_pattern_ops);

CREATE TABLE grids (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Polygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  code text NOT NULL,
  name text NOT NULL,
  plan_id bigint NOT NULL,
  worker_name text,
  worker_phone text,
  households bigint CHECK (households >= 0),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (code ~ ('^' || division_code || '-G[0-9]{2,3}$')),
  UNIQUE (shard_key, plan_id, code)
);
COMMENT ON TABLE grids IS '网格';
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_division_idx ON grids (division_code text_pattern_ops);

CREATE TABLE households (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  address text NOT NULL,
  size bigint CHECK (size > 0),
  grid_code text,
  group_code text,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE households IS '户';
CREATE INDEX households_geom_idx ON households USING gist (geom);
CREATE INDEX households_division_idx ON households (division_code text_pattern_ops);

CREATE TABLE persons (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text NOT NULL,
  id_card text NOT NULL,
  phone text,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9)),
  CHECK (id_card ~ '^[0-9]{17}[0-9X]$')
);
COMMENT ON TABLE persons IS '人员';
CREATE INDEX persons_division_idx ON persons (division_code text_pattern_ops);

CREATE TABLE transfer_stations (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text NOT NULL,
  capacity_t double precision NOT NULL CHECK (capacity_t > 0),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE transfer_stations IS '垃圾中转站';
CREATE INDEX transfer_stations_geom_idx ON transfer_stations USING gist (geom);
CREATE INDEX transfer_stations_division_idx ON transfer_stations (division_code text_pattern_ops);

CREATE TABLE incinerators (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text NOT NULL,
  capacity_t double precision NOT NULL CHECK (capacity_t > 0),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE incinerators IS '垃圾焚烧站';
CREATE INDEX incinerators_geom_idx ON incinerators USING gist (geom);
CREATE INDEX incinerators_division_idx ON incinerators (division_code text_pattern_ops);

CREATE TABLE collection_points (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text,
  kind text NOT NULL CHECK (kind IN ('bin_group', 'garbage_pool')),
  waste_kinds text NOT NULL,
  volume_l double precision CHECK (volume_l > 0),
  every_days bigint CHECK (every_days > 0),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE collection_points IS '垃圾收集点';
CREATE INDEX collection_points_geom_idx ON collection_points USING gist (geom);
CREATE INDEX collection_points_division_idx ON collection_points (division_code text_pattern_ops);

CREATE TABLE vehicles (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  plate text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('tricycle', 'truck')),
  capacity_kg double precision NOT NULL CHECK (capacity_kg > 0),
  depot_station_id bigint,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE vehicles IS '环卫车辆';
CREATE INDEX vehicles_division_idx ON vehicles (division_code text_pattern_ops);

CREATE TABLE cleaners (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  person_id bigint NOT NULL,
  area_code text,
  vehicle_id bigint,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE cleaners IS '保洁员';
CREATE INDEX cleaners_division_idx ON cleaners (division_code text_pattern_ops);

CREATE TABLE roads (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(LineString, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text,
  class text NOT NULL CHECK (class IN ('trunk', 'primary', 'secondary', 'village', 'lane', 'track', 'path')),
  oneway boolean,
  osm_id bigint,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE roads IS '道路';
CREATE INDEX roads_geom_idx ON roads USING gist (geom);
CREATE INDEX roads_division_idx ON roads (division_code text_pattern_ops);

CREATE TABLE water (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Geometry, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  name text,
  kind text NOT NULL CHECK (kind IN ('river', 'stream', 'canal', 'lake', 'reservoir', 'pond')),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE water IS '水系';
CREATE INDEX water_geom_idx ON water USING gist (geom);
CREATE INDEX water_division_idx ON water (division_code text_pattern_ops);

CREATE TABLE land_use (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Polygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  kind text NOT NULL CHECK (kind IN ('farmland', 'forest', 'built_up', 'grassland', 'orchard')),
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE land_use IS '土地利用';
CREATE INDEX land_use_geom_idx ON land_use USING gist (geom);
CREATE INDEX land_use_division_idx ON land_use (division_code text_pattern_ops);

CREATE TABLE rental_houses (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  address text NOT NULL,
  landlord_id bigint NOT NULL,
  rooms bigint CHECK (rooms > 0),
  household_id bigint,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE rental_houses IS '出租房屋';
CREATE INDEX rental_houses_geom_idx ON rental_houses USING gist (geom);
CREATE INDEX rental_houses_division_idx ON rental_houses (division_code text_pattern_ops);

CREATE TABLE tenancies (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  rental_house_id bigint NOT NULL,
  person_id bigint NOT NULL,
  check_in date NOT NULL,
  check_out date,
  PRIMARY KEY (id, shard_key),
  CHECK (check_out >= check_in),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE tenancies IS '租住登记';
CREATE INDEX tenancies_division_idx ON tenancies (division_code text_pattern_ops);

CREATE TABLE supervised_persons (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Polygon, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  person_id bigint NOT NULL,
  category text NOT NULL CHECK (category IN ('community_correction', 'released_prisoner', 'drug_rehabilitation', 'left_behind_child')),
  officer text NOT NULL,
  officer_phone text,
  start_date date NOT NULL,
  end_date date,
  PRIMARY KEY (id, shard_key),
  CHECK (end_date >= start_date),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE supervised_persons IS '特殊人群';
CREATE INDEX supervised_persons_geom_idx ON supervised_persons USING gist (geom);
CREATE INDEX supervised_persons_division_idx ON supervised_persons (division_code text_pattern_ops);

CREATE TABLE position_reports (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  supervised_person_id bigint NOT NULL,
  reported_at timestamptz NOT NULL,
  PRIMARY KEY (id, shard_key),
  CHECK (shard_key = left(division_code, 9))
);
COMMENT ON TABLE position_reports IS '定位上报';
CREATE INDEX position_reports_geom_idx ON position_reports USING gist (geom);
CREATE INDEX position_reports_division_idx ON position_reports (division_code text_pattern_ops);

CREATE TABLE disputes (
  id bigserial NOT NULL,
  shard_key text NOT NULL,
  geom geometry(Point, 4326) NOT NULL CHECK (ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90),
  division_code text NOT NULL CHECK (length(division_code) = 12 AND ltrim(division_code, '0123456789') = ''),
  category text NOT NULL CHECK (category IN ('land_acquisition', 'medical', 'forest_rights', 'traffic_accident', 'labour', 'consumer', 'environment', 'land_contracting', 'rural_instability', 'wage_arrears', 'mass_finance', 'real_estate', 'illegal_land_use', 'other')),
  channel text NOT NULL CHECK (channel IN ('people', 'administrative', 'judicial', 'petition')),
  level text NOT NULL CHECK (level IN ('village', 'township', 'county')),
  status text NOT NULL CHECK (status IN ('open', 'mediating', 'settled', 'closed')),
  opened_on date NOT NULL,
  deadline date,
  closed_on date,
  description text,
  PRIMARY KEY (id, shard_key),
  CHECK (deadline >= opened_on),
  CHECK (closed_on >= opened_on),
  CHECK (shard_key = left(division_code, 9)),
  CHECK ((status IN ('settled', 'closed')) = (closed_on IS NOT NULL))
);
COMMENT ON TABLE disputes IS '矛盾纠纷';
CREATE INDEX disputes_geom_idx ON disputes USING gist (geom);
CREATE INDEX disputes_division_idx ON disputes (division_code text_pattern_ops);

