-- The change feed that keeps several server processes' engines in step exists on PostgreSQL
-- only (see the postgres migration of the same version): a SQLite database is served by one
-- process. This migration keeps both backends' version lists the same.
SELECT 1;
