-- Surveillance: the data elements whose day or week counts the outbreak detectors watch, and
-- the detector settings (TOML, checked by the application before it is stored).

CREATE TABLE watched_series (
    element    TEXT PRIMARY KEY REFERENCES data_elements (code) ON DELETE CASCADE,
    step       TEXT NOT NULL CHECK (step IN ('day', 'week')),
    department TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE surveillance_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    toml       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
