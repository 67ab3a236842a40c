-- Notifications: each user's in-app inbox, their e-mail opt-in, the admin's webhooks and
-- the outbox a background job delivers from (retried with backoff, each attempt audited).

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    username   TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('returned', 'deadline', 'alert', 'submitted')),
    -- One notification per user and event, however often the event is seen.
    event      TEXT NOT NULL,
    title_zh   TEXT NOT NULL,
    title_en   TEXT NOT NULL,
    body_zh    TEXT NOT NULL,
    body_en    TEXT NOT NULL,
    link       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT,
    UNIQUE (username, event)
);
CREATE INDEX notifications_unread ON notifications (username, read_at);

CREATE TABLE notification_prefs (
    username     TEXT PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    email        TEXT,
    email_opt_in BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    format     TEXT NOT NULL CHECK (format IN ('generic', 'wecom', 'dingtalk')),
    secret     TEXT,
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL
);

CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- The e-mail address, or the webhook's id.
    target          TEXT NOT NULL,
    event           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX notification_outbox_due ON notification_outbox (status, next_attempt_at);
