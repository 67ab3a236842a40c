-- Settings an administrator changes for the whole instance (each change audited), e.g.
-- `four_eyes` = `off` to let an account approve what it submitted itself.
CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
