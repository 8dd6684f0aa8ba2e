-- 0010: the run sweep's two look-ups stay index scans however many runs accumulate.
--
-- Every sync adds a row to sync_runs and none is deleted, while the sweep
-- (service/repositories/run_sweep.py) runs every few minutes looking for unfinished runs whose
-- record stopped moving (updated_at) and deferred runs whose resume_at has passed. Both are a
-- small slice of the table; these partial indexes hold only that slice.
--
-- Expand only: two indexes; the previous release's statements are unchanged.

CREATE INDEX sync_runs_lease_idx ON sync_runs (updated_at)
    WHERE status IN ('pending', 'running');

CREATE INDEX sync_runs_due_idx ON sync_runs (resume_at)
    WHERE status = 'deferred';
