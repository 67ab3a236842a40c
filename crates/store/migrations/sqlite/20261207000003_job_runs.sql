-- Periodic jobs (backups, alert checks) claimed by one server process per period, however
-- many run on this database: a claim is a conditional update of the job's row.
CREATE TABLE job_runs (
    name     TEXT PRIMARY KEY,
    last_run TEXT NOT NULL
);
