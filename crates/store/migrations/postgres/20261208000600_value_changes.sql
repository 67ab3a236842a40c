-- Several server processes on one database: each keeps an in-memory analytics engine, so
-- every committed change of a data value is recorded here (in the writing transaction, by
-- triggers, whatever the write path) and announced with NOTIFY healthplan_values. A process
-- applies the changes after the last id it has seen; ids follow commit order because the
-- trigger takes the writers' advisory lock (the one `begin_write` takes) before drawing one.
CREATE TABLE value_changes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    element   TEXT NOT NULL,
    area_code TEXT NOT NULL,
    period    TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Old changes are pruned; a process that has not seen up to `pruned_through` reloads its
-- engine from data_values instead of applying changes it can no longer read.
CREATE TABLE value_change_floor (
    one            BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    pruned_through BIGINT NOT NULL
);
INSERT INTO value_change_floor (one, pruned_through) VALUES (TRUE, 0);

CREATE FUNCTION record_value_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7346016);
    IF TG_OP = 'DELETE' THEN
        INSERT INTO value_changes (element, area_code, period)
            SELECT element, area_code, period FROM old_rows;
    ELSE
        INSERT INTO value_changes (element, area_code, period)
            SELECT element, area_code, period FROM new_rows;
    END IF;
    IF FOUND THEN
        -- Delivered at commit, once per transaction (equal notifications are merged).
        PERFORM pg_notify('healthplan_values', '');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER data_values_changes_insert AFTER INSERT ON data_values
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
CREATE TRIGGER data_values_changes_update AFTER UPDATE ON data_values
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
CREATE TRIGGER data_values_changes_delete AFTER DELETE ON data_values
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION record_value_changes();
