-- 0007: the money assistant's conversations (issue 11).
--
-- A conversation belongs to one user in one family and is read by that user only (not
-- even by owners). Everything a member or the model wrote, and every tool result, is
-- sealed under the family's data key (AES-256-GCM, AAD binding family, conversation,
-- message number), like consent tokens: the database (and its backups) holds only
-- ciphertext, and deleting the family's key shreds every conversation with it.
-- Retention: expires_at moves forward with each message; reads ignore expired rows and
-- the purge deletes them (messages go with their conversation).

CREATE TABLE conversations (
    id                 uuid PRIMARY KEY,
    family_id          uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the handle table (acct-1 -> account id) of the conversation, sealed
    handles_ciphertext bytea NOT NULL,
    handles_nonce      bytea NOT NULL,
    message_count      integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    last_message_at    timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL
);

CREATE INDEX conversations_owner_idx ON conversations (family_id, user_id, last_message_at DESC);
CREATE INDEX conversations_expiry_idx ON conversations (expires_at);

CREATE TABLE chat_messages (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             integer NOT NULL CHECK (seq >= 1),
    kind            text NOT NULL CHECK (kind IN ('user', 'assistant', 'tool_results')),
    body_ciphertext bytea NOT NULL,
    body_nonce      bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);

-- Messages one member sent on one UTC day in one family: claimed by an atomic upsert
-- that only increments below the limit, so concurrent requests cannot overshoot.
CREATE TABLE chat_quota (
    family_id uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day       date NOT NULL,
    messages  integer NOT NULL CHECK (messages >= 0),
    PRIMARY KEY (family_id, user_id, day)
);
