-- Plan documents get a version like data values: every write of the document bumps it, and an
-- edit names the version it was made on, so two reviewers' edits cannot overwrite each other.
ALTER TABLE plans ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
