-- The server: accounts and sessions, plan life cycle, element links, the review workflow,
-- reporting rounds and evidence. Keep in step with ../postgres/.

ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

-- SQLite cannot alter a CHECK constraint: rebuild the table to allow the admin role.
CREATE TABLE user_grants_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'planner', 'reporter', 'viewer')),
    area_code   TEXT NOT NULL REFERENCES areas (code),
    departments TEXT NOT NULL
);
INSERT INTO user_grants_new (id, username, role, area_code, departments)
    SELECT id, username, role, area_code, departments FROM user_grants;
DROP TABLE user_grants;
ALTER TABLE user_grants_new RENAME TO user_grants;
CREATE INDEX user_grants_user ON user_grants (username);

-- Session ids and API tokens are stored only as SHA-256 hashes.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    client       TEXT
);
CREATE INDEX sessions_user ON sessions (username);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    username     TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

-- Failed sign-ins per account (`user:NAME`) and per client address (`addr:IP`).
CREATE TABLE sign_in_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL
);

ALTER TABLE plans ADD COLUMN status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'confirmed', 'published'));

-- What the public sees of a plan: a snapshot taken when a planner publishes it.
CREATE TABLE publications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id      INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    as_of        INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    snapshot     TEXT NOT NULL
);
CREATE INDEX publications_plan ON publications (plan_id);

ALTER TABLE data_elements ADD COLUMN unit TEXT;
-- Normalised name and unit, to link a new plan's indicator to an existing element.
ALTER TABLE data_elements ADD COLUMN match_key TEXT;
CREATE INDEX data_elements_match ON data_elements (match_key);

ALTER TABLE plan_indicators ADD COLUMN element_code TEXT REFERENCES data_elements (code);
ALTER TABLE plan_indicators ADD COLUMN lead TEXT;
CREATE INDEX plan_indicators_element ON plan_indicators (element_code);

ALTER TABLE data_values ADD COLUMN review_comment TEXT;
ALTER TABLE data_values ADD COLUMN synthetic BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE data_values ADD COLUMN reviewed_by TEXT;
ALTER TABLE data_values ADD COLUMN reviewed_at TEXT;

ALTER TABLE task_progress ADD COLUMN workflow TEXT NOT NULL DEFAULT 'draft'
    CHECK (workflow IN ('draft', 'submitted', 'approved', 'returned'));
ALTER TABLE task_progress ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE task_progress ADD COLUMN review_comment TEXT;

CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id      INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    task_key     TEXT NOT NULL,
    area_code    TEXT NOT NULL REFERENCES areas (code),
    period       TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX evidence_task ON evidence (plan_id, task_key, area_code, period);

CREATE TABLE rounds (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id    INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    period     TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    open       BOOLEAN NOT NULL DEFAULT TRUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE round_areas (
    round_id  INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    area_code TEXT NOT NULL REFERENCES areas (code),
    PRIMARY KEY (round_id, area_code)
);

CREATE TABLE round_departments (
    round_id   INTEGER NOT NULL REFERENCES rounds (id) ON DELETE CASCADE,
    department TEXT NOT NULL,
    PRIMARY KEY (round_id, department)
);
