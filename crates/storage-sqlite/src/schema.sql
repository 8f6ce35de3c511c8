-- Roam's SQLite schema, version 1. Applied once, when PRAGMA user_version is 0.

-- Small server settings (e.g. the generated admin credential).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Users; id is the lower-cased user id.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    uuid          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    nickname      TEXT,
    created_ms    INTEGER NOT NULL,
    modified_ms   INTEGER NOT NULL
) WITHOUT ROWID;

-- Access tokens by SHA-256; user_id NULL = the app admin.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_user ON tokens(user_id);

-- One row per conversation. key = 'c:<a>:<b>' (a < b) for a single chat, 'g:<id>' for a group
-- or chat room.
CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    last_seq   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);

-- One copy of every message, numbered per conversation.
CREATE TABLE messages (
    conv_id   INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    id        INTEGER NOT NULL,
    from_user TEXT NOT NULL,
    from_res  TEXT NOT NULL,
    to_target TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    ts_ms     INTEGER NOT NULL,
    payload   BLOB NOT NULL,
    PRIMARY KEY (conv_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_by_id ON messages(id);

-- A user's side of a conversation: small positions only, never message copies.
-- target: the peer's user id, or 'g:<id>' for a group or chat room (then the row exists while
-- the user is a member).
-- start_seq: nothing at or before it is the user's (messages from before they joined).
-- synced_seq: the highest seq acknowledged by any of the user's devices.
-- read_seq: the user's read position (moved by a conversation read ack).
CREATE TABLE user_conversations (
    user_id    TEXT NOT NULL,
    conv_id    INTEGER NOT NULL,
    target     TEXT NOT NULL,
    start_seq  INTEGER NOT NULL DEFAULT 0,
    synced_seq INTEGER NOT NULL DEFAULT 0,
    read_seq   INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, conv_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX user_conversations_by_target ON user_conversations(user_id, target);
CREATE INDEX user_conversations_by_conv ON user_conversations(conv_id);

-- Devices a user has logged in from; registered_id is the message-id watermark of the first login.
CREATE TABLE devices (
    user_id       TEXT NOT NULL,
    resource      TEXT NOT NULL,
    registered_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, resource)
) WITHOUT ROWID;

-- How far each device has acknowledged each conversation.
CREATE TABLE device_cursors (
    user_id  TEXT NOT NULL,
    resource TEXT NOT NULL,
    conv_id  INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (user_id, resource, conv_id)
) WITHOUT ROWID;

-- Groups and chat rooms (kind 0 = group, 1 = chat room); conv_id is their conversation.
CREATE TABLE groups (
    id            TEXT PRIMARY KEY,
    kind          INTEGER NOT NULL,
    conv_id       INTEGER NOT NULL,
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    public        INTEGER NOT NULL,
    approval      INTEGER NOT NULL,
    allow_invites INTEGER NOT NULL,
    max_users     INTEGER NOT NULL,
    custom        TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
) WITHOUT ROWID;

-- Membership; role 0 = owner, 1 = admin, 2 = member.
CREATE TABLE group_members (
    group_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      INTEGER NOT NULL,
    joined_ms INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_by_user ON group_members(user_id);
