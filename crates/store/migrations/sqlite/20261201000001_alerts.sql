-- Early warning: alerts raised by re-evaluation, round deadlines and outbreak detectors,
-- and the last state seen per subject (an alert is raised when the state changes into an
-- alarming one, never again for an unchanged state).

CREATE TABLE alert_state (
    subject TEXT PRIMARY KEY,
    state   TEXT NOT NULL,
    at      TEXT NOT NULL
);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('status', 'interim', 'forecast', 'round_late', 'outbreak')),
    subject    TEXT NOT NULL,
    state      TEXT NOT NULL,
    plan_id    INTEGER REFERENCES plans (id) ON DELETE CASCADE,
    indicator  INTEGER,
    round_id   INTEGER REFERENCES rounds (id) ON DELETE CASCADE,
    area_code  TEXT NOT NULL REFERENCES areas (code),
    element    TEXT,
    period     TEXT,
    department TEXT,
    severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title_zh   TEXT NOT NULL,
    title_en   TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    link       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'closed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX alerts_status ON alerts (status, created_at);
CREATE INDEX alerts_area ON alerts (area_code);

CREATE TABLE alert_comments (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    author   TEXT NOT NULL,
    at       TEXT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX alert_comments_alert ON alert_comments (alert_id);
