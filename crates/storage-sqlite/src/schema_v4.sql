-- Schema version 4: the conversation list in index order, exactly newest first.
-- A list position is a key in message-id space: the id of the newest message the user sees
-- in the conversation (ids are unique and time-ordered, so no two conversations tie), else
-- the first id of the ms the side began (`roam_id_floor`, a function the engine registers).
-- Conversations keep the id of their newest activity (`last_chat_id`), sides the id of the
-- newest activity they still see (`vis_id`), and a
-- single chat side its position (`sort_key`), so a page of the list reads about a page of rows
-- from an index however many conversations the user has. (Group sides are ordered from their
-- conversation row, which changes without touching the members' rows; a user has few groups.)
ALTER TABLE conversations ADD COLUMN last_chat_id INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET last_chat_id = COALESCE((SELECT m.id FROM messages m
  WHERE m.conv_id = conversations.id AND m.seq = conversations.last_chat_seq), 0);
ALTER TABLE user_conversations ADD COLUMN vis_id INTEGER NOT NULL DEFAULT 0;
UPDATE user_conversations SET vis_id = COALESCE((SELECT m.id FROM messages m
  WHERE m.conv_id = user_conversations.conv_id AND m.seq = user_conversations.vis_seq), 0);
ALTER TABLE user_conversations ADD COLUMN sort_key INTEGER NOT NULL DEFAULT 0;
UPDATE user_conversations AS uc SET sort_key = (
  SELECT CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_id
              WHEN uc.vis_seq > 0 THEN uc.vis_id
              ELSE roam_id_floor(uc.created_ms) END
  FROM conversations cv WHERE cv.id = uc.conv_id);
CREATE INDEX user_conversations_list ON user_conversations (user_id, sort_key DESC, conv_id DESC)
  WHERE kind = 0;
CREATE INDEX user_conversations_pinned ON user_conversations (user_id, pinned_ms DESC)
  WHERE pinned_ms > 0;
