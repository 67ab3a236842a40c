-- When each user last opened the home page (工作台), and the newest audit row then: the home
-- shows what changed since. A read marker, not protected data, so not audited.
CREATE TABLE home_visits (
    username TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    audit_id BIGINT NOT NULL,
    seen_at  TEXT NOT NULL
);
