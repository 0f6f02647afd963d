-- pollbot schema, version 6. A draft being published (Publish pressed, or a command with
-- `now`) carries what its publishing needs (where it goes, who asked, where the report
-- goes): the sends run apart from the updates, and a start after a crash finishes them.
ALTER TABLE drafts ADD COLUMN job TEXT;  -- JSON, set when the draft goes to 'publishing'
CREATE INDEX drafts_publishing ON drafts (state) WHERE state = 'publishing';
