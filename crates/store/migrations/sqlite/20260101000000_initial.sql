-- healthplan schema, SQLite flavour. Keep in step with ../postgres/.
-- Timestamps are UTC RFC 3339 text written by the application (fixed width, so they sort).

CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'town', 'village')),
    parent_code TEXT REFERENCES areas (code)
);
CREATE INDEX areas_parent ON areas (parent_code);

CREATE TABLE departments (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    area_code TEXT NOT NULL REFERENCES areas (code),
    name      TEXT NOT NULL,
    UNIQUE (area_code, name)
);

CREATE TABLE plans (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    area        TEXT NOT NULL,
    area_code   TEXT REFERENCES areas (code),
    kind        TEXT,
    document    TEXT NOT NULL,
    source_text TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE plan_tasks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id   INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    task_key  TEXT NOT NULL,
    section   TEXT,
    text      TEXT NOT NULL,
    lead_unit TEXT,
    task      TEXT NOT NULL,
    UNIQUE (plan_id, task_key),
    UNIQUE (plan_id, idx)
);

CREATE TABLE plan_indicators (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id        INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    idx            INTEGER NOT NULL,
    code           TEXT,
    name           TEXT NOT NULL,
    unit           TEXT,
    direction      TEXT NOT NULL,
    property       TEXT,
    domain         TEXT,
    baseline_value REAL,
    baseline_year  INTEGER,
    targets        TEXT NOT NULL,
    indicator      TEXT NOT NULL,
    UNIQUE (plan_id, idx)
);
CREATE INDEX plan_indicators_code ON plan_indicators (code);

CREATE TABLE data_elements (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    value_type  TEXT NOT NULL,
    aggregation TEXT NOT NULL
);

-- element is a data element code or an indicator code; not a foreign key on purpose.
CREATE TABLE data_values (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    element     TEXT NOT NULL,
    area_code   TEXT NOT NULL REFERENCES areas (code),
    period      TEXT NOT NULL,
    value_type  TEXT NOT NULL CHECK (value_type IN ('number', 'ratio', 'boolean', 'text')),
    num_value   REAL,
    numerator   REAL,
    denominator REAL,
    bool_value  BOOLEAN,
    text_value  TEXT,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'returned')),
    version     INTEGER NOT NULL CHECK (version >= 1),
    comment     TEXT,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (element, area_code, period)
);
CREATE INDEX data_values_area_period ON data_values (area_code, period);

CREATE TABLE task_progress (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id    INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    task_key   TEXT NOT NULL,
    area_code  TEXT NOT NULL REFERENCES areas (code),
    period     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('not_started', 'in_progress', 'completed', 'delayed')),
    note       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (plan_id, task_key, area_code, period)
);

CREATE TABLE users (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE user_grants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('planner', 'reporter', 'viewer')),
    area_code   TEXT NOT NULL REFERENCES areas (code),
    departments TEXT NOT NULL
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    before     TEXT,
    after      TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_key);

-- The audit log is append-only in the database itself, not just by convention.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
