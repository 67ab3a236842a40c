-- The code mapping table between healthplan and a DHIS2 instance, edited by planners: one row
-- per data element, org unit (area) or period code, one to one in both directions per kind.

CREATE TABLE exchange_mapping (
    kind       TEXT NOT NULL CHECK (kind IN ('element', 'org_unit', 'period')),
    local_code TEXT NOT NULL CHECK (local_code <> ''),
    dhis2_code TEXT NOT NULL CHECK (dhis2_code <> ''),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, local_code),
    UNIQUE (kind, dhis2_code)
);
