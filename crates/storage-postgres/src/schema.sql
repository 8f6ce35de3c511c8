-- Roam's PostgreSQL schema, version 1: the same tables as the SQLite engine's final schema
-- (see that engine's schema scripts for what each column means), in PostgreSQL's types.
-- Flags are INTEGER 0/1 as there, so the statements read the same on both engines.
-- Applied once, in one transaction, when roam_schema_version holds no row.

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
    created_ms    BIGINT NOT NULL,
    modified_ms   BIGINT NOT NULL
);

-- Access tokens by SHA-256; user_id NULL = the app admin.
CREATE TABLE tokens (
    hash       BYTEA PRIMARY KEY,
    user_id    TEXT,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX tokens_by_user ON tokens(user_id);

-- One row per conversation. key = 'c:<a>:<b>' (a < b) for a single chat, 'g:<id>' for a group
-- or chat room, 's:<user>' for a user's own event log. A writer locks the row (FOR UPDATE)
-- before it numbers a message: that lock is what keeps seq gap-free and in order when several
-- nodes append to one conversation at once.
-- last_id: the id of the message at last_seq (0 = none): a node's id generator is moved past
-- it before numbering the next, so ids increase with seq within a conversation whichever
-- node writes.
CREATE TABLE conversations (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    last_seq      BIGINT NOT NULL,
    last_id       BIGINT NOT NULL DEFAULT 0,
    last_ms       BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL,
    chat_count    BIGINT NOT NULL DEFAULT 0,
    last_chat_seq BIGINT NOT NULL DEFAULT 0,
    last_chat_ms  BIGINT NOT NULL DEFAULT 0,
    last_chat_id  BIGINT NOT NULL DEFAULT 0
);

-- One copy of every message, numbered per conversation.
CREATE TABLE messages (
    conv_id      BIGINT NOT NULL,
    seq          BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    from_user    TEXT NOT NULL,
    from_res     TEXT NOT NULL,
    to_target    TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    ts_ms        BIGINT NOT NULL,
    payload      BYTEA NOT NULL,
    activity     INTEGER NOT NULL DEFAULT 0,
    ord          BIGINT NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    client_id    BIGINT,
    PRIMARY KEY (conv_id, seq)
);
CREATE UNIQUE INDEX messages_by_id ON messages(id);
CREATE UNIQUE INDEX messages_client_id ON messages (from_user, from_res, client_id)
  WHERE client_id IS NOT NULL;

-- A user's side of a conversation: small positions only, never message copies.
CREATE TABLE user_conversations (
    user_id    TEXT NOT NULL,
    conv_id    BIGINT NOT NULL,
    target     TEXT NOT NULL,
    start_seq  BIGINT NOT NULL DEFAULT 0,
    synced_seq BIGINT NOT NULL DEFAULT 0,
    read_seq   BIGINT NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    kind       INTEGER NOT NULL DEFAULT 0,
    read_ord   BIGINT NOT NULL DEFAULT 0,
    read_sent  BIGINT NOT NULL DEFAULT 0,
    sent       BIGINT NOT NULL DEFAULT 0,
    hidden_to  BIGINT NOT NULL DEFAULT 0,
    vis_seq    BIGINT NOT NULL DEFAULT 0,
    vis_ms     BIGINT NOT NULL DEFAULT 0,
    removed    INTEGER NOT NULL DEFAULT 0,
    emptied    INTEGER NOT NULL DEFAULT 0,
    pinned_ms  BIGINT NOT NULL DEFAULT 0,
    marks      BIGINT NOT NULL DEFAULT 0,
    vis_id     BIGINT NOT NULL DEFAULT 0,
    sort_key   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conv_id)
);
CREATE UNIQUE INDEX user_conversations_by_target ON user_conversations(user_id, target);
CREATE INDEX user_conversations_by_conv ON user_conversations(conv_id);
CREATE INDEX user_conversations_list ON user_conversations (user_id, sort_key DESC, conv_id DESC)
  WHERE kind = 0;
CREATE INDEX user_conversations_pinned ON user_conversations (user_id, pinned_ms DESC)
  WHERE pinned_ms > 0;

-- Messages a user deleted one-way (by id), while after their side's start.
CREATE TABLE deleted_messages (
    user_id TEXT NOT NULL,
    conv_id BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (user_id, conv_id, seq)
);

-- Devices a user has logged in from; registered_id is the message-id watermark of the first login.
CREATE TABLE devices (
    user_id       TEXT NOT NULL,
    resource      TEXT NOT NULL,
    registered_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, resource)
);

-- How far each device has acknowledged each conversation.
CREATE TABLE device_cursors (
    user_id  TEXT NOT NULL,
    resource TEXT NOT NULL,
    conv_id  BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    PRIMARY KEY (user_id, resource, conv_id)
);

-- Groups and chat rooms (kind 0 = group, 1 = chat room); conv_id is their conversation.
CREATE TABLE groups (
    id            TEXT PRIMARY KEY,
    kind          INTEGER NOT NULL,
    conv_id       BIGINT NOT NULL,
    owner         TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    public        INTEGER NOT NULL,
    approval      INTEGER NOT NULL,
    allow_invites INTEGER NOT NULL,
    max_users     BIGINT NOT NULL,
    custom        TEXT NOT NULL,
    created_ms    BIGINT NOT NULL
);

-- Membership; role 0 = owner, 1 = admin, 2 = member.
CREATE TABLE group_members (
    group_id  TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    role      INTEGER NOT NULL,
    joined_ms BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members(user_id);
