-- Schema version 2: message roaming (conversation list, unread arithmetic, pins, marks,
-- one-way deletes). Applied once, on top of version 1.

-- activity: 1 if the message is conversation activity (moves the list, is lastMessage, counts
--   as unread).
-- ord: how many activity messages the conversation has up to and including this one.
-- content_type: the body's type (txt, img, custom, …), '' for control messages.
ALTER TABLE messages ADD COLUMN activity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN content_type TEXT NOT NULL DEFAULT '';

-- chat_count: activity messages so far; last_chat_seq/_ms: the newest one.
ALTER TABLE conversations ADD COLUMN chat_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_chat_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN last_chat_ms INTEGER NOT NULL DEFAULT 0;

-- A user's side, continued (all small numbers):
-- kind: 0 single chat, 1 group, 2 chat room, 3 the user's own event log.
-- read_ord, read_sent: chat_count and this user's `sent` at the read position (read_seq),
--   so unread = (chat_count - read_ord) - (sent - read_sent) - deleted-after-read.
-- sent: activity messages this user sent in the conversation.
-- hidden_to, vis_seq, vis_ms: the conversation's activity up to hidden_to was looked at by
--   the user's last delete; vis_seq/vis_ms is the newest of it the user still sees (0 = none).
--   While the conversation's last activity is beyond hidden_to, that is the newest visible.
-- removed: the user deleted the conversation (it returns with the next activity).
-- emptied: the user deleted every message of it (listed only with needEmptySession).
-- pinned_ms: pin time, 0 = not pinned. marks: bit n = mark_n.
ALTER TABLE user_conversations ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN read_ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN read_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN hidden_to INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN vis_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN vis_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN emptied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN pinned_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_conversations ADD COLUMN marks INTEGER NOT NULL DEFAULT 0;

-- Messages a user deleted one-way (by id), while after their side's start.
CREATE TABLE deleted_messages (
    user_id TEXT NOT NULL,
    conv_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, conv_id, seq)
) WITHOUT ROWID;

-- Carry version-1 data over: chat messages from devices were activity.
UPDATE messages SET activity = 1 WHERE kind = 0;
UPDATE messages SET ord = (SELECT COUNT(*) FROM messages m WHERE m.conv_id = messages.conv_id
                           AND m.seq <= messages.seq AND m.activity = 1);
UPDATE conversations SET
    chat_count = (SELECT COUNT(*) FROM messages m WHERE m.conv_id = conversations.id AND m.activity = 1),
    last_chat_seq = COALESCE((SELECT MAX(seq) FROM messages m WHERE m.conv_id = conversations.id AND m.activity = 1), 0);
UPDATE conversations SET last_chat_ms = COALESCE((SELECT ts_ms FROM messages m
    WHERE m.conv_id = conversations.id AND m.seq = conversations.last_chat_seq), 0);
UPDATE user_conversations SET
    kind = CASE WHEN target = 's:' THEN 3
                WHEN target LIKE 'g:%' THEN 1 + COALESCE((SELECT g.kind FROM groups g WHERE 'g:' || g.id = target), 0)
                ELSE 0 END,
    hidden_to = start_seq,
    read_seq = MAX(read_seq, start_seq);
UPDATE user_conversations SET
    read_ord = COALESCE((SELECT MAX(ord) FROM messages m WHERE m.conv_id = user_conversations.conv_id AND m.seq <= read_seq), 0),
    sent = (SELECT COUNT(*) FROM messages m WHERE m.conv_id = user_conversations.conv_id
            AND m.from_user = user_conversations.user_id AND m.activity = 1),
    read_sent = (SELECT COUNT(*) FROM messages m WHERE m.conv_id = user_conversations.conv_id
            AND m.from_user = user_conversations.user_id AND m.activity = 1 AND m.seq <= read_seq);
