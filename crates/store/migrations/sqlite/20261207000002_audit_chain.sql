-- Tamper evidence: each row's SHA-256 over its content and the previous row's hash (see
-- `audit_hash`); rows written before this column have none and are not part of the chain.
ALTER TABLE audit_log ADD COLUMN hash TEXT;
