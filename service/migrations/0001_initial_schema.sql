-- 0001: initial schema of the family finance platform API.
--
-- Tenancy: every financial row carries family_id; accounts are tied to their
-- holder's membership by a composite foreign key so a holder is always a member
-- of the same family, and transactions/balances to their account the same way.
-- Families are never hard-deleted: deletion crypto-shreds the family's data key,
-- deletes the financial data and leaves a tombstone row the audit trail refers to.
-- Money is integer minor units (pence) plus an ISO 4217 currency code.

CREATE TABLE users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer       text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL,
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_issuer_subject_key UNIQUE (issuer, subject)
);

CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE families (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE memberships (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id  uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'adult', 'child')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_family_user_key UNIQUE (family_id, user_id)
);

CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id   uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'adult', 'child')),
    -- Only the SHA-256 (hex) of the random invitation token is stored.
    token_hash  text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id),
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);

CREATE INDEX invitations_family_idx ON invitations (family_id, created_at DESC);

-- One data key per family, wrapped by KMS (context {"family": id}) or by the
-- local master key. Crypto-shredding sets wrapped_key to NULL and destroyed_at.
CREATE TABLE family_keys (
    family_id          uuid PRIMARY KEY REFERENCES families (id),
    provider           text NOT NULL,
    key_id             text NOT NULL,
    encryption_context jsonb NOT NULL,
    wrapped_key        bytea,
    created_at         timestamptz NOT NULL DEFAULT now(),
    destroyed_at       timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

-- Open Banking consents. Tokens are stored only as AES-256-GCM ciphertext under
-- the family data key, with AAD binding {family, connection, field}.
CREATE TABLE connections (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id                 uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    provider                  text NOT NULL,
    status                    text NOT NULL CHECK (status IN ('active', 'expired', 'revoked')),
    consent_expires_at        timestamptz,
    access_token_ciphertext   bytea,
    access_token_nonce        bytea,
    refresh_token_ciphertext  bytea,
    refresh_token_nonce       bytea,
    created_by                uuid NOT NULL REFERENCES users (id),
    created_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connections_id_family_key UNIQUE (id, family_id),
    CHECK ((access_token_ciphertext IS NULL) = (access_token_nonce IS NULL)),
    CHECK ((refresh_token_ciphertext IS NULL) = (refresh_token_nonce IS NULL))
);

CREATE INDEX connections_family_idx ON connections (family_id);

CREATE TABLE accounts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id           uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    connection_id       uuid,
    holder_user_id      uuid NOT NULL,
    provider_account_id text NOT NULL,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    nickname            text CHECK (nickname IS NULL OR char_length(nickname) BETWEEN 1 AND 50),
    type                text NOT NULL
                        CHECK (type IN ('current', 'savings', 'credit_card', 'loan', 'other')),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    visibility          text NOT NULL DEFAULT 'family' CHECK (visibility IN ('family', 'private')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_id_family_key UNIQUE (id, family_id),
    CONSTRAINT accounts_family_provider_account_key UNIQUE (family_id, provider_account_id),
    -- The holder is a member of the same family; removing the member removes their accounts.
    CONSTRAINT accounts_holder_fkey FOREIGN KEY (family_id, holder_user_id)
        REFERENCES memberships (family_id, user_id) ON DELETE CASCADE,
    CONSTRAINT accounts_connection_fkey FOREIGN KEY (connection_id)
        REFERENCES connections (id) ON DELETE SET NULL
);

CREATE INDEX accounts_family_idx ON accounts (family_id, holder_user_id);

CREATE TABLE balances (
    account_id   uuid NOT NULL,
    family_id    uuid NOT NULL,
    as_of        timestamptz NOT NULL,
    amount_minor bigint NOT NULL,
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    PRIMARY KEY (account_id, as_of),
    CONSTRAINT balances_account_fkey FOREIGN KEY (account_id, family_id)
        REFERENCES accounts (id, family_id) ON DELETE CASCADE
);

CREATE TABLE transactions (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id               uuid NOT NULL,
    account_id              uuid NOT NULL,
    provider_transaction_id text NOT NULL,
    status                  text NOT NULL CHECK (status IN ('pending', 'booked')),
    -- Booking date (transaction date while pending): the list order and date filter.
    booked_on               date NOT NULL,
    booked_at               timestamptz,
    description             text NOT NULL,
    merchant                text,
    amount_minor            bigint NOT NULL,
    currency                text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    category                text CHECK (category IS NULL OR char_length(category) BETWEEN 1 AND 50),
    note                    text CHECK (note IS NULL OR char_length(note) <= 500),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_account_provider_key UNIQUE (account_id, provider_transaction_id),
    CONSTRAINT transactions_account_fkey FOREIGN KEY (account_id, family_id)
        REFERENCES accounts (id, family_id) ON DELETE CASCADE
);

-- Cursor order (booked_on DESC, id DESC) scoped by family or by account.
CREATE INDEX transactions_family_order_idx ON transactions (family_id, booked_on DESC, id DESC);
CREATE INDEX transactions_account_order_idx ON transactions (account_id, booked_on DESC, id DESC);
CREATE INDEX transactions_family_category_idx
    ON transactions (family_id, category, booked_on DESC, id DESC);
CREATE INDEX transactions_family_amount_idx ON transactions (family_id, amount_minor);
CREATE INDEX transactions_pending_idx
    ON transactions (family_id, booked_on DESC, id DESC) WHERE status = 'pending';

-- Audit trail: one hash chain per family, append-only.
-- hash = sha256(prev_hash || canonical JSON of the entry); the head row per family
-- is locked (SELECT ... FOR UPDATE) by every append so concurrent appends cannot fork
-- the chain, and records the last index/hash so truncation of the tail is detected.
CREATE TABLE audit_heads (
    family_id   uuid PRIMARY KEY REFERENCES families (id),
    chain_index bigint NOT NULL CHECK (chain_index >= 0),
    hash        text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

CREATE TABLE audit_log (
    seq         bigserial PRIMARY KEY,
    family_id   uuid NOT NULL,
    chain_index bigint NOT NULL CHECK (chain_index >= 1),
    actor       text NOT NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text,
    at          timestamptz NOT NULL,
    prev_hash   text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash        text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT audit_log_family_index_key UNIQUE (family_id, chain_index)
);

CREATE INDEX audit_log_family_seq_idx ON audit_log (family_id, seq DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- REVOKE does not bind the table owner; these triggers do.
CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
