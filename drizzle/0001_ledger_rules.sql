-- Ledger rules the database enforces whatever code runs, and the one-round-trip write functions.
-- Our own errors use SQLSTATE class KL: KL001 insufficient funds, KL002 not found, KL003 conflict, KL004 invalid.

-- Entries are immutable: corrections are new journals.
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'KL004';
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
--> statement-breakpoint
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();
--> statement-breakpoint
CREATE TRIGGER ledger_journals_no_truncate BEFORE TRUNCATE ON ledger_journals
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();
--> statement-breakpoint
CREATE TRIGGER ledger_journals_no_delete BEFORE DELETE ON ledger_journals
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
--> statement-breakpoint

-- A journal may only change while its own transaction builds it, and then only its running sums.
CREATE FUNCTION ledger_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.txid <> txid_current()
     OR NEW.id IS DISTINCT FROM OLD.id OR NEW.kind IS DISTINCT FROM OLD.kind
     OR NEW.reversal_of IS DISTINCT FROM OLD.reversal_of OR NEW.hold_id IS DISTINCT FROM OLD.hold_id
     OR NEW.request IS DISTINCT FROM OLD.request OR NEW.metadata IS DISTINCT FROM OLD.metadata
     OR NEW.txid IS DISTINCT FROM OLD.txid OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'ledger_journals is append-only: UPDATE refused' USING ERRCODE = 'KL004';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_journals_guard BEFORE UPDATE ON ledger_journals
  FOR EACH ROW EXECUTE FUNCTION ledger_journal_guard();
--> statement-breakpoint

-- Each entry adds to its journal's per-currency running sum. Keeping the sum on the journal's own row
-- (which no other transaction touches) checks balance without reading the shared entries index,
-- so concurrent journals do not pick up SERIALIZABLE read/write conflicts from one another.
CREATE FUNCTION ledger_entry_accumulate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ledger_journals
     SET imbalance = jsonb_set(imbalance, ARRAY[NEW.currency],
                               to_jsonb(coalesce((imbalance ->> NEW.currency)::bigint, 0) + NEW.amount)),
         entry_count = entry_count + 1
   WHERE id = NEW.journal_id AND txid = txid_current();
  IF NOT FOUND THEN
    RAISE EXCEPTION 'entries can only be added to a journal by the transaction that creates it' USING ERRCODE = 'KL004';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_accumulate BEFORE INSERT ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_entry_accumulate();
--> statement-breakpoint

-- At commit: at least two entries, and every currency sums to zero.
CREATE FUNCTION ledger_journal_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  j record;
BEGIN
  SELECT imbalance, entry_count INTO j FROM ledger_journals WHERE id = NEW.id;
  IF j.entry_count < 2 OR EXISTS (SELECT 1 FROM jsonb_each_text(j.imbalance) WHERE value::bigint <> 0) THEN
    RAISE EXCEPTION 'journal % does not balance (% entries, sums %)', NEW.id, j.entry_count, j.imbalance
      USING ERRCODE = 'KL004';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER ledger_journals_balanced AFTER INSERT ON ledger_journals
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_journal_balanced();
--> statement-breakpoint

-- Moves `amount` (signed) on one account and appends its entries. Single-shard accounts use shard 0
-- with an exact guard; credits to sharded accounts, and any write to an unguarded one, take whichever
-- shard no concurrent writer holds; debits from a guarded sharded account drain shards in order under
-- lock, so the may-not-go-negative check stays exact.
CREATE FUNCTION ledger_apply(p_journal text, p_account text, p_amount bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  acc record;
  v_shard smallint;
  v_after bigint;
  v_left bigint;
  v_take bigint;
  s record;
BEGIN
  SELECT currency, guarded, shard_count INTO acc FROM ledger_accounts WHERE id = p_account;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % not found', p_account USING ERRCODE = 'KL002';
  END IF;

  IF acc.shard_count = 1 OR p_amount > 0 OR NOT acc.guarded THEN
    IF acc.shard_count = 1 THEN
      v_shard := 0;
    ELSE
      SELECT shard INTO v_shard FROM ledger_balances WHERE account_id = p_account
        ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
      IF NOT FOUND THEN
        v_shard := floor(random() * acc.shard_count)::smallint;
      END IF;
    END IF;
    UPDATE ledger_balances SET balance = balance + p_amount
     WHERE account_id = p_account AND shard = v_shard
       AND (NOT guarded OR p_amount > 0 OR balance - held + p_amount >= 0)
    RETURNING balance INTO v_after;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'insufficient funds in %', p_account USING ERRCODE = 'KL001';
    END IF;
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    VALUES (p_journal, p_account, v_shard, acc.currency, p_amount, v_after);
    RETURN;
  END IF;

  -- Debit from a guarded, sharded account.
  v_left := -p_amount;
  IF (SELECT sum(balance - held) FROM ledger_balances WHERE account_id = p_account) < v_left THEN
    RAISE EXCEPTION 'insufficient funds in %', p_account USING ERRCODE = 'KL001';
  END IF;
  FOR s IN SELECT shard, balance - held AS available FROM ledger_balances
            WHERE account_id = p_account ORDER BY shard FOR UPDATE LOOP
    EXIT WHEN v_left = 0;
    CONTINUE WHEN s.available <= 0;
    v_take := least(v_left, s.available);
    UPDATE ledger_balances SET balance = balance - v_take
     WHERE account_id = p_account AND shard = s.shard RETURNING balance INTO v_after;
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    VALUES (p_journal, p_account, s.shard, acc.currency, -v_take, v_after);
    v_left := v_left - v_take;
  END LOOP;
  IF v_left > 0 THEN
    RAISE EXCEPTION 'insufficient funds in %', p_account USING ERRCODE = 'KL001';
  END IF;
END $$;
--> statement-breakpoint

-- What a journal looks like to callers: the journal and its entries.
CREATE FUNCTION ledger_journal_json(p_id text, p_replayed boolean) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'replayed', p_replayed,
    'journal', jsonb_build_object('id', j.id, 'kind', j.kind, 'reversalOf', j.reversal_of, 'holdId', j.hold_id,
                                  'request', j.request, 'metadata', j.metadata, 'createdAt', j.created_at),
    'entries', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.id::text, 'accountId', e.account_id, 'shard', e.shard,
                                  'currency', e.currency, 'amount', e.amount::text, 'balanceAfter', e.balance_after::text)
                                  ORDER BY e.id)
                         FROM ledger_entries e WHERE e.journal_id = j.id), '[]'::jsonb))
  FROM ledger_journals j WHERE j.id = p_id
$$;
--> statement-breakpoint

-- A transfer in one statement: {id, kind, request, metadata, reversalOf, legs:[{account, amount}]}.
-- Legs are applied in account order so concurrent transfers lock rows in the same order.
-- The same id again returns the stored journal with replayed=true; the caller compares content.
CREATE FUNCTION ledger_transfer(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  leg record;
BEGIN
  INSERT INTO ledger_journals (id, kind, reversal_of, request, metadata)
  VALUES (p ->> 'id', p ->> 'kind', p ->> 'reversalOf', p -> 'request', coalesce(p -> 'metadata', '{}'::jsonb))
  ON CONFLICT (id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN ledger_journal_json(p ->> 'id', true);
  END IF;
  FOR leg IN SELECT l ->> 'account' AS account, sum((l ->> 'amount')::bigint) AS amount
               FROM jsonb_array_elements(p -> 'legs') l GROUP BY 1 ORDER BY 1 LOOP
    CONTINUE WHEN leg.amount = 0;
    PERFORM ledger_apply(p ->> 'id', leg.account, leg.amount::bigint);
  END LOOP;
  RETURN ledger_journal_json(p ->> 'id', false);
END $$;
--> statement-breakpoint

-- Reserve funds: {id, account, amount, expiresAt, metadata, request}. Same id again returns the hold.
CREATE FUNCTION ledger_hold(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  acc record;
  v_amount bigint := (p ->> 'amount')::bigint;
  v_left bigint;
  v_take bigint;
  v_alloc jsonb := '[]'::jsonb;
  s record;
  h ledger_holds;
BEGIN
  SELECT * INTO h FROM ledger_holds WHERE id = p ->> 'id';
  IF FOUND THEN
    RETURN to_jsonb(h) || jsonb_build_object('replayed', true);
  END IF;
  SELECT id, currency, guarded, shard_count INTO acc FROM ledger_accounts WHERE id = p ->> 'account';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % not found', p ->> 'account' USING ERRCODE = 'KL002';
  END IF;
  IF v_amount IS NULL OR v_amount <= 0 THEN
    RAISE EXCEPTION 'hold amount must be positive' USING ERRCODE = 'KL004';
  END IF;
  v_left := v_amount;
  FOR s IN SELECT shard, balance - held AS available FROM ledger_balances
            WHERE account_id = acc.id ORDER BY shard FOR UPDATE LOOP
    EXIT WHEN v_left = 0;
    IF acc.guarded THEN
      CONTINUE WHEN s.available <= 0;
      v_take := least(v_left, s.available);
    ELSE
      v_take := v_left;
    END IF;
    UPDATE ledger_balances SET held = held + v_take WHERE account_id = acc.id AND shard = s.shard;
    v_alloc := v_alloc || jsonb_build_array(jsonb_build_object('shard', s.shard, 'amount', v_take));
    v_left := v_left - v_take;
  END LOOP;
  IF v_left > 0 THEN
    RAISE EXCEPTION 'insufficient funds in %', acc.id USING ERRCODE = 'KL001';
  END IF;
  INSERT INTO ledger_holds (id, account_id, currency, amount, allocations, expires_at, metadata)
  VALUES (p ->> 'id', acc.id, acc.currency, v_amount, v_alloc, (p ->> 'expiresAt')::timestamptz,
          coalesce(p -> 'metadata', '{}'::jsonb))
  RETURNING * INTO h;
  RETURN to_jsonb(h) || jsonb_build_object('replayed', false);
END $$;
--> statement-breakpoint

-- Releases a pending hold's reservation; returns the hold row, locked.
CREATE FUNCTION ledger_release_hold(p_hold text) RETURNS ledger_holds LANGUAGE plpgsql AS $$
DECLARE
  h ledger_holds;
  a jsonb;
BEGIN
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'hold % not found', p_hold USING ERRCODE = 'KL002';
  END IF;
  IF h.status <> 'pending' THEN
    RETURN h;
  END IF;
  FOR a IN SELECT * FROM jsonb_array_elements(h.allocations) LOOP
    UPDATE ledger_balances SET held = held - (a ->> 'amount')::bigint
     WHERE account_id = h.account_id AND shard = (a ->> 'shard')::smallint;
  END LOOP;
  RETURN h;
END $$;
--> statement-breakpoint

-- Posts a pending hold, fully or partly: {holdId, id (journal), kind, amount, legs (credits), request, metadata}.
-- The debit comes from the shards that carry the reservation; the rest of the reservation is released.
CREATE FUNCTION ledger_post_hold(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  h ledger_holds;
  v_amount bigint := (p ->> 'amount')::bigint;
  v_left bigint;
  v_take bigint;
  v_after bigint;
  a jsonb;
  leg record;
BEGIN
  h := ledger_release_hold(p ->> 'holdId');
  IF h.status = 'posted' AND h.journal_id = p ->> 'id' THEN
    RETURN ledger_journal_json(h.journal_id, true);
  ELSIF h.status <> 'pending' THEN
    RAISE EXCEPTION 'hold % is already %', h.id, h.status USING ERRCODE = 'KL003';
  ELSIF h.expires_at IS NOT NULL AND h.expires_at <= now() THEN
    RAISE EXCEPTION 'hold % has expired', h.id USING ERRCODE = 'KL003';
  ELSIF v_amount IS NULL OR v_amount <= 0 OR v_amount > h.amount THEN
    RAISE EXCEPTION 'post amount must be between 1 and the held %', h.amount USING ERRCODE = 'KL004';
  END IF;

  INSERT INTO ledger_journals (id, kind, hold_id, request, metadata)
  VALUES (p ->> 'id', p ->> 'kind', h.id, p -> 'request', coalesce(p -> 'metadata', '{}'::jsonb));
  v_left := v_amount;
  FOR a IN SELECT * FROM jsonb_array_elements(h.allocations) LOOP
    EXIT WHEN v_left = 0;
    v_take := least(v_left, (a ->> 'amount')::bigint);
    UPDATE ledger_balances SET balance = balance - v_take
     WHERE account_id = h.account_id AND shard = (a ->> 'shard')::smallint RETURNING balance INTO v_after;
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    VALUES (p ->> 'id', h.account_id, (a ->> 'shard')::smallint, h.currency, -v_take, v_after);
    v_left := v_left - v_take;
  END LOOP;
  FOR leg IN SELECT l ->> 'account' AS account, sum((l ->> 'amount')::bigint) AS amount
               FROM jsonb_array_elements(p -> 'legs') l GROUP BY 1 ORDER BY 1 LOOP
    CONTINUE WHEN leg.amount = 0;
    PERFORM ledger_apply(p ->> 'id', leg.account, leg.amount::bigint);
  END LOOP;
  UPDATE ledger_holds SET status = 'posted', posted_amount = v_amount, journal_id = p ->> 'id', resolved_at = now()
   WHERE id = h.id;
  RETURN ledger_journal_json(p ->> 'id', false);
END $$;
--> statement-breakpoint

-- Voids (or expires) a pending hold. Resolving an already voided/expired hold the same way is a no-op replay.
CREATE FUNCTION ledger_void_hold(p_hold text, p_status text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  h ledger_holds;
BEGIN
  IF p_status NOT IN ('voided', 'expired') THEN
    RAISE EXCEPTION 'unknown hold resolution %', p_status USING ERRCODE = 'KL004';
  END IF;
  h := ledger_release_hold(p_hold);
  IF h.status = p_status THEN
    RETURN to_jsonb(h) || jsonb_build_object('replayed', true);
  ELSIF h.status <> 'pending' THEN
    RAISE EXCEPTION 'hold % is already %', h.id, h.status USING ERRCODE = 'KL003';
  END IF;
  UPDATE ledger_holds SET status = p_status, resolved_at = now() WHERE id = h.id RETURNING * INTO h;
  RETURN to_jsonb(h) || jsonb_build_object('replayed', false);
END $$;
