-- Collection points may be open only part of the day (a school yard, a market after closing),
-- and a vehicle may have its own shift and end station and be allowed to serve every village
-- of its township. The day planner (crates/gridgov-routing/src/sanitation) reads all of them;
-- each is optional, and without them the planner's defaults hold (open all day, a shift of
-- eight hours from 06:00 back to the depot station, the vehicle's own area only). Times of day
-- are `HH:MM` text from 00:00 to 24:00, as the model's `ClockTime` rule checks.

ALTER TABLE collection_points
  ADD COLUMN open_from text CHECK (open_from ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'),
  ADD COLUMN open_until text CHECK (open_until ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'),
  ADD CONSTRAINT collection_points_window_order CHECK (open_until > open_from);

ALTER TABLE vehicles
  ADD COLUMN end_station_id bigint,
  ADD COLUMN shift_start text CHECK (shift_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'),
  ADD COLUMN shift_hours double precision CHECK (shift_hours > 0 AND shift_hours <= 24),
  ADD COLUMN serves_township boolean;
