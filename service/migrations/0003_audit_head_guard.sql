-- 0003: guard the audit chain heads against the application role.
--
-- The app role may write audit_heads (each append moves its family's head), so the
-- tables themselves enforce what an append may do: a head starts at index 0, only
-- moves forward, and at commit must name the last entry of its family's chain with
-- that entry's hash (deferred, so an append may write the entries and the head in
-- either order, one entry or a batch). Heads are never deleted or truncated: families are
-- tombstoned, not removed. The triggers are owned by the migration role, which the
-- app role cannot act as.

CREATE FUNCTION audit_heads_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.chain_index <> 0 THEN
            RAISE EXCEPTION 'audit head of family % must start at index 0', NEW.family_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.family_id <> OLD.family_id OR NEW.chain_index <= OLD.chain_index THEN
            RAISE EXCEPTION 'audit head of family % may only move forward', OLD.family_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_heads rows are never removed (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_heads_forward_only
    BEFORE INSERT OR UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only();

CREATE TRIGGER audit_heads_no_truncate
    BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only();

-- Checked at commit for every family whose head or chain changed: the head names the
-- chain's last entry with its hash (index 0 and no entries for a new chain), so an
-- entry cannot be appended without moving the head, nor the head moved off the tail.
CREATE FUNCTION audit_head_names_last_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head_index bigint;
    head_hash text;
    last_index bigint;
    last_hash text;
BEGIN
    SELECT chain_index, hash INTO head_index, head_hash
        FROM audit_heads WHERE family_id = NEW.family_id;
    SELECT chain_index, hash INTO last_index, last_hash
        FROM audit_log WHERE family_id = NEW.family_id
        ORDER BY chain_index DESC LIMIT 1;
    IF head_index IS NULL
       OR (last_index IS NULL AND head_index <> 0)
       OR (last_index IS NOT NULL
           AND (head_index <> last_index OR head_hash <> last_hash)) THEN
        RAISE EXCEPTION 'audit head of family % does not name the last entry of its chain',
            NEW.family_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER audit_heads_name_last_entry
    AFTER INSERT OR UPDATE ON audit_heads
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_head_names_last_entry();

CREATE CONSTRAINT TRIGGER audit_log_moves_its_head
    AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_head_names_last_entry();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_heads FROM PUBLIC;
