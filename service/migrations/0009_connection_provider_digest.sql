-- 0009: find a connection from a provider webhook without opening its sealed id.
--
-- A webhook names the provider's connection id, which is stored only sealed under the family
-- data key (0004), so it cannot be looked up. This adds the SHA-256 (hex) of
-- "<provider>:<provider connection id>": TrueLayer's connection ids are random UUIDs, so the
-- digest reveals nothing a guess could confirm. It is written with the sealed id when a
-- connection is created (a reconfirmation is a fresh provider connection with a new id) and
-- cleared with it when the connection is deleted or replaced, so at most one row holds it.
--
-- Expand only: a nullable column and an index; the previous release never writes it, and its
-- rows are simply not found by a webhook (they stay NULL until reconnected).

ALTER TABLE connections
    ADD COLUMN provider_digest text CHECK (provider_digest IS NULL OR provider_digest ~ '^[0-9a-f]{64}$');

CREATE UNIQUE INDEX connections_provider_digest_idx ON connections (provider_digest)
    WHERE provider_digest IS NOT NULL;
