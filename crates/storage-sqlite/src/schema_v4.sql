-- Schema version 4: the conversation list in index order. A single chat side keeps its list
-- position (`sort_ms`: the time of the newest message the user sees there, else when the side
-- began) so a page of the list reads ~a page of rows from an index, however many
-- conversations the user has. (Group sides are ordered from their conversation row, which
-- changes without touching the members' rows; a user has few groups.)
ALTER TABLE user_conversations ADD COLUMN sort_ms INTEGER NOT NULL DEFAULT 0;
UPDATE user_conversations AS uc SET sort_ms = (
  SELECT CASE WHEN cv.last_chat_seq > uc.hidden_to THEN cv.last_chat_ms
              WHEN uc.vis_seq > 0 THEN uc.vis_ms ELSE uc.created_ms END
  FROM conversations cv WHERE cv.id = uc.conv_id);
CREATE INDEX user_conversations_list ON user_conversations (user_id, sort_ms DESC, conv_id DESC)
  WHERE kind = 0;
CREATE INDEX user_conversations_pinned ON user_conversations (user_id, pinned_ms DESC)
  WHERE pinned_ms > 0;
