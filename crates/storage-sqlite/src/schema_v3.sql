-- Schema version 3: idempotent sends. A device that lost its connection before the ack sends
-- the message again under the same meta id; the store keeps the first and answers with it.
-- client_id: the sending device's id for the message (msync meta id); NULL when it gave none
--   (REST sends, server events).
ALTER TABLE messages ADD COLUMN client_id INTEGER;
CREATE UNIQUE INDEX messages_client_id ON messages (from_user, from_res, client_id)
  WHERE client_id IS NOT NULL;
