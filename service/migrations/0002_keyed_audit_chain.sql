-- 0002: the audit chain is keyed (HMAC-SHA256 with a key the database never holds).
--
-- key_id names the key version that keyed each entry's link, so entries keyed before a
-- key rotation still verify. Entries written under 0001 were unkeyed SHA-256 links;
-- the column default marks them 'sha256' (no UPDATE, so the append-only trigger is not
-- involved) and verification accepts them only as a chain's prefix. New entries must
-- name their key: the default is dropped.
ALTER TABLE audit_log ADD COLUMN key_id text NOT NULL DEFAULT 'sha256'
    CHECK (char_length(key_id) BETWEEN 1 AND 100);
ALTER TABLE audit_log ALTER COLUMN key_id DROP DEFAULT;
