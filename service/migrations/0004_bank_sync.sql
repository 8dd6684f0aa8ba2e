-- 0004: server-created bank connections, single-use consent states, sync runs.
--
-- A connection is created by the service (never from client-supplied tokens): 'pending'
-- while the user is at the bank's consent page, 'active' once the callback completed it,
-- 'reauth_required' when the provider refuses it, 'expired' after the consent window,
-- 'revoked' when deleted. The provider's connection id is the only provider credential
-- stored, as AES-256-GCM ciphertext under the family data key (AAD binds family,
-- connection and field); revoking destroys it.
--
-- Expand only: the token columns of the client-supplied consents (0001) stay until a later
-- release drops them (the release before this one still writes them while traffic shifts);
-- this release never writes them and wipes them when a connection is deleted.

ALTER TABLE connections DROP CONSTRAINT connections_status_check;
ALTER TABLE connections
    ADD COLUMN provider_ref_ciphertext bytea,
    ADD COLUMN provider_ref_nonce bytea,
    ADD COLUMN visibility text NOT NULL DEFAULT 'family'
        CHECK (visibility IN ('family', 'private')),
    -- A reconfirmation is a fresh connection that replaces this one once it completes.
    ADD COLUMN replaces_id uuid REFERENCES connections (id) ON DELETE SET NULL,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN last_synced_at timestamptz,
    -- Banks allow a few unattended calls per account per day: the next scheduled sync
    -- waits until then (a user-present sync does not).
    ADD COLUMN next_unattended_sync_at timestamptz,
    ADD COLUMN status_reason text CHECK (status_reason IS NULL OR char_length(status_reason) <= 500),
    ADD CONSTRAINT connections_status_check
        CHECK (status IN ('pending', 'active', 'reauth_required', 'expired', 'revoked')),
    ADD CONSTRAINT connections_provider_ref_check
        CHECK ((provider_ref_ciphertext IS NULL) = (provider_ref_nonce IS NULL)),
    -- The holder of a connection's accounts is its creator, a member of the family.
    ADD CONSTRAINT connections_creator_member_fkey FOREIGN KEY (family_id, created_by)
        REFERENCES memberships (family_id, user_id) ON DELETE CASCADE;

CREATE INDEX connections_due_idx ON connections (next_unattended_sync_at)
    WHERE status = 'active';

-- The single-use `state` of a consent journey: only its SHA-256 is stored, bound to the
-- user, family, connection and purpose, expiring; the callback claims it once.
CREATE TABLE consent_states (
    digest        text PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
    family_id     uuid NOT NULL,
    user_id       uuid NOT NULL,
    connection_id uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    purpose       text NOT NULL CHECK (purpose IN ('connect', 'reconfirm')),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT consent_states_member_fkey FOREIGN KEY (family_id, user_id)
        REFERENCES memberships (family_id, user_id) ON DELETE CASCADE
);

CREATE INDEX consent_states_expiry_idx ON consent_states (expires_at);

-- Workflow runs of the bank sync, and their steps (status, attempts, counts, last error).
CREATE TABLE sync_runs (
    id            uuid PRIMARY KEY,
    workflow      text NOT NULL,
    connection_id uuid REFERENCES connections (id) ON DELETE CASCADE,
    family_id     uuid REFERENCES families (id) ON DELETE CASCADE,
    status        text NOT NULL
                  CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'deferred')),
    input         jsonb NOT NULL,
    state         jsonb NOT NULL DEFAULT '{}',
    started_at    timestamptz,
    finished_at   timestamptz,
    resume_at     timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Two syncs of one connection never run at once: at most one unfinished run each.
CREATE UNIQUE INDEX sync_runs_one_active_idx ON sync_runs (connection_id)
    WHERE status IN ('pending', 'running', 'deferred');
CREATE INDEX sync_runs_connection_idx ON sync_runs (connection_id, created_at DESC);

CREATE TABLE sync_run_steps (
    run_id      uuid NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    name        text NOT NULL,
    status      text NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'deferred')),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    counts      jsonb NOT NULL DEFAULT '{}',
    last_error  text,
    started_at  timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (run_id, position)
);

-- Accounts: which provider, and a digest of the bank identifiers that links the accounts
-- of a fresh connection (reconfirmation) to the same rows.
ALTER TABLE accounts
    ADD COLUMN provider text,
    ADD COLUMN match_key text CHECK (match_key IS NULL OR match_key ~ '^[0-9a-f]{64}$');
CREATE INDEX accounts_match_key_idx ON accounts (family_id, match_key)
    WHERE match_key IS NOT NULL;

-- Transactions: the content keys and run stamp ingestion works with, and the provider's
-- own category (the user's `category` stays theirs).
ALTER TABLE transactions
    ADD COLUMN fingerprint text,
    ADD COLUMN pending_key text,
    ADD COLUMN last_seen_run text,
    ADD COLUMN provider_category text
        CHECK (provider_category IS NULL OR char_length(provider_category) <= 100);

-- Balance history: every snapshot a sync fetched, with the available amount.
ALTER TABLE balances
    ADD COLUMN available_minor bigint,
    ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
