-- 0006: money insights in the product (issue 9): the category taxonomy, a category with
-- its source and confidence on every transaction, family rules, recurring series and the
-- members' decisions about them.
--
-- Expand only: the previous release keeps reading and writing transactions.category (the
-- free text it stores, and the provider's category that ingestion writes); from this
-- release on that column holds the provider's raw category, an *input* of categorisation,
-- and category_id holds the taxonomy category.

-- The taxonomy (service/insights/taxonomy.py; tests/insights/test_product_schema.py checks
-- that the two agree). Transactions and rules refer to it, so an id outside it cannot be
-- stored by any path.
CREATE TABLE categories (
    id       text PRIMARY KEY CHECK (id ~ '^[a-z][a-z_]{0,39}$'),
    label    text NOT NULL CHECK (char_length(label) BETWEEN 1 AND 50),
    position integer NOT NULL UNIQUE
);

INSERT INTO categories (id, label, position) VALUES
    ('income', 'Income', 1),
    ('transfers', 'Transfers', 2),
    ('housing', 'Housing', 3),
    ('bills', 'Bills', 4),
    ('groceries', 'Groceries', 5),
    ('eating_out', 'Eating out', 6),
    ('transport', 'Transport', 7),
    ('shopping', 'Shopping', 8),
    ('entertainment', 'Entertainment', 9),
    ('health', 'Health', 10),
    ('childcare_education', 'Childcare & education', 11),
    ('insurance', 'Insurance', 12),
    ('savings_investments', 'Savings & investments', 13),
    ('cash', 'Cash', 14),
    ('fees_charges', 'Fees & charges', 15),
    ('charity_gifts', 'Charity & gifts', 16),
    ('travel', 'Travel', 17),
    ('personal_care', 'Personal care', 18),
    ('other', 'Other', 19);

-- category_source: 'member' (a member chose it: automation never overwrites it), 'rule',
-- 'learned' (a member's choice for the same merchant), 'merchant'/'keyword' (built-in
-- knowledge), 'provider' (the bank's transaction type or classification), 'transfer' (a
-- transfer between two of the family's own accounts), 'default'.
ALTER TABLE transactions
    ADD COLUMN category_id text REFERENCES categories (id),
    ADD COLUMN category_source text CHECK (category_source IN
        ('member', 'rule', 'learned', 'merchant', 'keyword', 'provider', 'transfer', 'default')),
    ADD COLUMN category_confidence numeric(4, 3)
        CHECK (category_confidence BETWEEN 0 AND 1),
    ADD CONSTRAINT transactions_category_complete CHECK (
        (category_id IS NULL) = (category_source IS NULL)
        AND (category_id IS NULL) = (category_confidence IS NULL));

-- Today's free-text categories were set by members (PATCH) or ingested from the provider.
-- A value naming a taxonomy category (its id, its label, or a common synonym; case, '&'
-- and separators ignored) becomes that id, any other text 'other'; both as the member's
-- choice, since automation must not overwrite what someone typed. TrueLayer transaction
-- types (upper-case 'DIRECT_DEBIT', 'PURCHASE', ...) are the provider's data, not a
-- choice: those rows are left to categorisation, which reads them as provider input.
WITH synonyms (word, category_id) AS (
    SELECT replace(lower(label), '&', 'and'), id FROM categories
    UNION ALL SELECT id, id FROM categories
    UNION ALL VALUES
        ('transfer', 'transfers'), ('salary', 'income'), ('wages', 'income'),
        ('rent', 'housing'), ('mortgage', 'housing'), ('home', 'housing'),
        ('bill', 'bills'), ('utilities', 'bills'), ('grocery', 'groceries'),
        ('food', 'groceries'), ('restaurants', 'eating_out'), ('takeaway', 'eating_out'),
        ('eating', 'eating_out'), ('dining', 'eating_out'), ('travel_and_transport', 'transport'),
        ('entertainment_and_leisure', 'entertainment'), ('leisure', 'entertainment'),
        ('subscriptions', 'entertainment'), ('healthcare', 'health'), ('fitness', 'health'),
        ('childcare', 'childcare_education'), ('education', 'childcare_education'),
        ('kids', 'childcare_education'), ('savings', 'savings_investments'),
        ('investments', 'savings_investments'), ('atm', 'cash'), ('fees', 'fees_charges'),
        ('charges', 'fees_charges'), ('charity', 'charity_gifts'), ('gifts', 'charity_gifts'),
        ('holiday', 'travel'), ('holidays', 'travel'), ('beauty', 'personal_care')
),
normalised (word, category_id) AS (
    SELECT regexp_replace(replace(lower(word), '&', 'and'), '[^a-z]+', '_', 'g'), category_id
    FROM synonyms
),
legacy AS (
    SELECT t.id,
           (SELECT n.category_id FROM normalised n
            WHERE n.word = trim(BOTH '_' FROM regexp_replace(
                replace(lower(t.category), '&', 'and'), '[^a-z]+', '_', 'g'))
            LIMIT 1) AS category_id
    FROM transactions t
    WHERE t.category IS NOT NULL AND t.category_id IS NULL
      AND t.category NOT IN ('ATM', 'BILL_PAYMENT', 'CASH', 'CASHBACK', 'CHEQUE', 'CORRECTION',
                             'CREDIT', 'DEBIT', 'DIRECT_DEBIT', 'DIVIDEND', 'FEE_CHARGE',
                             'INTEREST', 'OTHER', 'PURCHASE', 'STANDING_ORDER', 'TRANSFER',
                             'UNKNOWN')
)
UPDATE transactions t
SET category_id = coalesce(legacy.category_id, 'other'),
    category_source = 'member',
    category_confidence = 1
FROM legacy
WHERE legacy.id = t.id;

CREATE INDEX transactions_family_category_id_idx
    ON transactions (family_id, category_id, booked_on DESC, id DESC);

-- A family's categorisation rules: every given condition must match; the highest priority
-- wins, ties to the oldest rule. Amounts bound the absolute amount in minor units.
CREATE TABLE category_rules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id        uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    category_id      text NOT NULL REFERENCES categories (id),
    priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    merchant         text CHECK (merchant IS NULL OR char_length(merchant) BETWEEN 1 AND 100),
    text_contains    text CHECK (text_contains IS NULL
                                 OR char_length(text_contains) BETWEEN 1 AND 100),
    min_amount_minor bigint CHECK (min_amount_minor IS NULL OR min_amount_minor >= 0),
    max_amount_minor bigint CHECK (max_amount_minor IS NULL OR max_amount_minor >= 0),
    direction        text CHECK (direction IS NULL OR direction IN ('inflow', 'outflow')),
    created_by       uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT category_rules_id_family_key UNIQUE (id, family_id),
    CHECK (merchant IS NOT NULL OR text_contains IS NOT NULL
           OR min_amount_minor IS NOT NULL OR max_amount_minor IS NOT NULL),
    CHECK (min_amount_minor IS NULL OR max_amount_minor IS NULL
           OR min_amount_minor <= max_amount_minor)
);

CREATE INDEX category_rules_family_idx ON category_rules (family_id, priority DESC, created_at);

-- Recurring series as last detected (service.insights.recurring): ids are deterministic
-- (direction, merchant, first transaction), so re-detection keeps them. Amounts are signed
-- minor units like transactions. Rewritten by every refresh; members' decisions live
-- apart, keyed by series id, so they survive a series vanishing and coming back.
CREATE TABLE recurring_series (
    family_id           uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    id                  text NOT NULL CHECK (id ~ '^rs_[0-9a-f]{16}$'),
    direction           text NOT NULL CHECK (direction IN ('inflow', 'outflow')),
    merchant            text NOT NULL,
    category_id         text REFERENCES categories (id),
    frequency           text NOT NULL CHECK (frequency IN
        ('weekly', 'fortnightly', 'four_weekly', 'monthly', 'quarterly', 'annual')),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    average_amount_minor bigint NOT NULL,
    min_amount_minor    bigint NOT NULL,
    max_amount_minor    bigint NOT NULL,
    last_amount_minor   bigint NOT NULL,
    first_date          date NOT NULL,
    last_date           date NOT NULL,
    next_date           date,
    next_amount_minor   bigint,
    -- The fitted calendar rule (service.insights.schedule.Schedule) and the position of the
    -- last occurrence on it: runway predicts the following dates from these.
    schedule_shift      text NOT NULL CHECK (schedule_shift IN ('none', 'next', 'previous')),
    schedule_anchor     date,
    schedule_day        smallint CHECK (schedule_day BETWEEN 0 AND 31),
    schedule_position   integer NOT NULL,
    status              text NOT NULL CHECK (status IN ('active', 'ended')),
    explanation         text NOT NULL,
    internal_transfer   boolean NOT NULL DEFAULT false,
    transaction_ids     jsonb NOT NULL,  -- JSON arrays of uuid strings: the Data API binds no arrays
    account_ids         jsonb NOT NULL,
    detected_on         date NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (family_id, id),
    CHECK ((next_date IS NULL) = (next_amount_minor IS NULL))
);

CREATE TABLE recurring_decisions (
    family_id  uuid NOT NULL REFERENCES families (id) ON DELETE CASCADE,
    series_id  text NOT NULL CHECK (series_id ~ '^rs_[0-9a-f]{16}$'),
    decision   text NOT NULL CHECK (decision IN ('confirmed', 'dismissed')),
    decided_by uuid NOT NULL REFERENCES users (id),
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (family_id, series_id)
);
