-- pollbot schema, version 2. A /digest is claimed under the update that asked for it, so
-- that a replay after a crash finishes that digest instead of claiming a second one.
ALTER TABLE digests ADD COLUMN origin TEXT;            -- e.g. 'u123:digest:1001'; NULL: scheduled
CREATE UNIQUE INDEX digests_origin ON digests (origin);
