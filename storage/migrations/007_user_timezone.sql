-- pollbot schema, version 7. An admin's own time zone (/timezone), kept on their private
-- chat's row: the times they type ("/post ... at 2026-12-01 09:00") and read are in it.
ALTER TABLE chats ADD COLUMN timezone TEXT;            -- NULL: [bot] timezone
