-- INSERT OR REPLACE (and REPLACE) deletes the row it replaces without firing the BEFORE
-- DELETE trigger, so an insert may not name an id that exists. PostgreSQL refuses such an
-- insert by its primary key and an upsert by the BEFORE UPDATE trigger.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
