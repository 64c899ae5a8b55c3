-- Partition plans (gridgov-partition through the server's /api/v1/partition-plans): a plan
-- drawn by the partitioner is a draft whose grids a server computes in the background; the plan
-- row carries the request, the computation's state and progress, its heartbeat (a computation
-- whose server stopped is seen as failed by any other server), the totals and per-grid
-- statistics, and the day the plan was approved.

ALTER TABLE grid_plans ADD COLUMN parameters text;
ALTER TABLE grid_plans ADD COLUMN job text CHECK (job IN ('running', 'done', 'failed'));
ALTER TABLE grid_plans ADD COLUMN progress bigint CHECK (progress >= 0 AND progress <= 100);
ALTER TABLE grid_plans ADD COLUMN job_error text;
ALTER TABLE grid_plans ADD COLUMN heartbeat timestamptz;
ALTER TABLE grid_plans ADD COLUMN summary text;
ALTER TABLE grid_plans ADD COLUMN approved_on date CHECK (approved_on >= created_on);

-- An approved plan, like an effective one, has its effective date.
ALTER TABLE grid_plans ADD CONSTRAINT grid_plans_approved_dated
  CHECK (status <> 'approved' OR effective_from IS NOT NULL);
-- A plan leaves the draft only with its grids drawn.
ALTER TABLE grid_plans ADD CONSTRAINT grid_plans_drawn_before_approval
  CHECK (status = 'draft' OR job IS NULL OR job = 'done');
-- A failed computation says why.
ALTER TABLE grid_plans ADD CONSTRAINT grid_plans_failure_explained
  CHECK (job IS DISTINCT FROM 'failed' OR job_error IS NOT NULL);
