ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_journal_id_ledger_journals_id_fk";
--> statement-breakpoint
-- Fewer statements inside a payment (bench/RESULTS.md "Payments": inside payments_execute every SQL statement
-- a function runs costs its own executor start-up, and a payment ran ~35 of them):
-- * ledger_apply_to takes the account row its caller already has: ledger_transfer reads all its legs' accounts
--   in the query that groups the legs, instead of one lookup per leg;
-- * a sharded credit locks and updates its shard in one UPDATE (the lock taken by a SKIP LOCKED sub-select),
--   instead of a probe and then the update;
-- * payments_assume checks every assumption in one query; payments_commit bumps every usage counter in one
--   statement; loops over empty lists are skipped.
-- What each function decides is unchanged.
CREATE FUNCTION ledger_apply_to(p_journal text, acc ledger_accounts, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_shard smallint;
  v_after bigint;
  v_left bigint;
  v_take bigint;
  s record;
  v_start smallint;
  v_got boolean := false;
  v_out jsonb := '[]'::jsonb;
BEGIN
  IF acc.shard_count = 1 OR p_amount > 0 OR NOT acc.guarded THEN
    IF acc.shard_count = 1 THEN
      v_shard := 0;
      UPDATE ledger_balances SET balance = balance + p_amount
       WHERE account_id = acc.id AND shard = 0
         AND (NOT guarded OR p_amount > 0 OR balance - held + p_amount >= 0)
      RETURNING balance INTO v_after;
      v_got := FOUND;
    ELSE
      -- One shard row at a time from this session's home shard (drizzle/0007, 0009), skipping rows others
      -- hold; the sub-select takes the row lock, so a busy shard is passed over without waiting. The balance
      -- guard cannot refuse here: this branch credits, or debits an unguarded account.
      v_start := (ledger_home_shard() % acc.shard_count)::smallint;
      FOR i IN 0 .. acc.shard_count - 1 LOOP
        v_shard := (v_start + i) % acc.shard_count;
        UPDATE ledger_balances b SET balance = b.balance + p_amount
         WHERE b.account_id = acc.id AND b.shard = v_shard
           AND b.ctid = (SELECT x.ctid FROM ledger_balances x WHERE x.account_id = acc.id AND x.shard = v_shard
                          FOR UPDATE SKIP LOCKED)
        RETURNING b.balance INTO v_after;
        v_got := FOUND;
        EXIT WHEN v_got;
      END LOOP;
      IF NOT v_got THEN
        v_shard := v_start; -- every shard is busy: wait for the home one
        UPDATE ledger_balances SET balance = balance + p_amount
         WHERE account_id = acc.id AND shard = v_shard RETURNING balance INTO v_after;
        v_got := FOUND;
      END IF;
    END IF;
    IF NOT v_got THEN
      RAISE EXCEPTION 'insufficient funds in %', acc.id USING ERRCODE = 'KL001';
    END IF;
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    VALUES (p_journal, acc.id, v_shard, acc.currency, p_amount, v_after)
    RETURNING jsonb_build_array(jsonb_build_object('id', id::text, 'accountId', account_id, 'shard', shard,
              'currency', currency, 'amount', amount::text, 'balanceAfter', balance_after::text)) INTO v_out;
    RETURN v_out;
  END IF;

  -- Debit from a guarded, sharded account.
  v_left := -p_amount;
  IF (SELECT sum(balance - held) FROM ledger_balances WHERE account_id = acc.id) < v_left THEN
    RAISE EXCEPTION 'insufficient funds in %', acc.id USING ERRCODE = 'KL001';
  END IF;
  FOR s IN SELECT shard, balance - held AS available FROM ledger_balances
            WHERE account_id = acc.id ORDER BY shard FOR UPDATE LOOP
    EXIT WHEN v_left = 0;
    CONTINUE WHEN s.available <= 0;
    v_take := least(v_left, s.available);
    UPDATE ledger_balances SET balance = balance - v_take
     WHERE account_id = acc.id AND shard = s.shard RETURNING balance INTO v_after;
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    VALUES (p_journal, acc.id, s.shard, acc.currency, -v_take, v_after)
    RETURNING v_out || jsonb_build_array(jsonb_build_object('id', id::text, 'accountId', account_id, 'shard', shard,
              'currency', currency, 'amount', amount::text, 'balanceAfter', balance_after::text)) INTO v_out;
    v_left := v_left - v_take;
  END LOOP;
  IF v_left > 0 THEN
    RAISE EXCEPTION 'insufficient funds in %', acc.id USING ERRCODE = 'KL001';
  END IF;
  RETURN v_out;
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_apply(p_journal text, p_account text, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  acc ledger_accounts;
BEGIN
  SELECT * INTO acc FROM ledger_accounts WHERE id = p_account;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % not found', p_account USING ERRCODE = 'KL002';
  END IF;
  RETURN ledger_apply_to(p_journal, acc, p_amount);
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_transfer(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  leg record;
  j ledger_journals;
  v_entries jsonb := '[]'::jsonb;
BEGIN
  INSERT INTO ledger_journals (id, kind, reversal_of, request, metadata)
  VALUES (p ->> 'id', p ->> 'kind', p ->> 'reversalOf', p -> 'request', coalesce(p -> 'metadata', '{}'::jsonb))
  ON CONFLICT (id) DO NOTHING
  RETURNING * INTO j;
  IF NOT FOUND THEN
    RETURN ledger_journal_json(p ->> 'id', true);
  END IF;
  -- The account as a correlated sub-select, not a join: the planner cannot size a jsonb list, and a join
  -- planned for a hundred legs scans every account.
  FOR leg IN SELECT l.account, l.amount, (SELECT a FROM ledger_accounts a WHERE a.id = l.account) AS acc
               FROM (SELECT e ->> 'account' AS account, sum((e ->> 'amount')::bigint) AS amount
                       FROM jsonb_array_elements(p -> 'legs') e GROUP BY 1) l
              ORDER BY l.account LOOP
    CONTINUE WHEN leg.amount = 0;
    IF (leg.acc).id IS NULL THEN
      RAISE EXCEPTION 'account % not found', leg.account USING ERRCODE = 'KL002';
    END IF;
    v_entries := v_entries || ledger_apply_to(p ->> 'id', leg.acc, leg.amount::bigint);
  END LOOP;
  -- Entries in the order written, which is ledger_journal_json's (ORDER BY e.id).
  RETURN jsonb_build_object(
    'replayed', false,
    'journal', jsonb_build_object('id', j.id, 'kind', j.kind, 'reversalOf', j.reversal_of, 'holdId', j.hold_id,
                                  'request', j.request, 'metadata', j.metadata, 'createdAt', j.created_at),
    'entries', v_entries);
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION payments_assume(a jsonb, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (
    (NOT a ? 'session' OR EXISTS (
      SELECT 1 FROM auth_sessions s
       WHERE s.id = a -> 'session' ->> 'id' AND s.principal_type = a -> 'session' ->> 'principalType'
         AND s.principal_id = a -> 'session' ->> 'principalId' AND s.revoked_at IS NULL AND s.expires_at > p_now))
    -- Correlated counts, not NOT EXISTS: an anti-join planned for a jsonb list of unknown size scans the table.
    AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(coalesce(a -> 'users', '[]'::jsonb)) x
       WHERE 0 = (
         SELECT count(*) FROM users u
          WHERE u.id = x ->> 'id' AND u.status = 'active' AND u.phone = x ->> 'phone'
            AND u.name IS NOT DISTINCT FROM x ->> 'name' AND u.kyc_tier = (x ->> 'kycTier')::smallint
            AND (NOT x ? 'pin' OR (u.pin_key_id = x -> 'pin' ->> 'keyId' AND u.pin_hash = x -> 'pin' ->> 'hash'
                                   AND u.pin_failed_count = 0
                                   AND (u.pin_locked_until IS NULL OR u.pin_locked_until <= p_now)))))
    AND NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(coalesce(a -> 'vendors', '[]'::jsonb)) x
       WHERE 0 = (
         SELECT count(*) FROM vendors v
          WHERE v.id = x ->> 'id' AND v.status = 'active' AND v.phone = x ->> 'phone' AND v.name = x ->> 'name'))
  ) THEN
    RAISE EXCEPTION 'an assumption no longer holds' USING ERRCODE = 'KL010';
  END IF;
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION payments_commit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim jsonb;
  v_name text;
  v_after bigint;
  r jsonb;
BEGIN
  IF jsonb_array_length(coalesce(p -> 'limits', '[]'::jsonb)) > 0 THEN
    WITH wanted AS (
      SELECT e.l ->> 'owner' AS owner, e.l ->> 'period' AS period, (e.l ->> 'amount')::bigint AS amount,
             (e.l ->> 'max')::bigint AS max, e.l ->> 'name' AS name, e.ord
        FROM jsonb_array_elements(p -> 'limits') WITH ORDINALITY AS e(l, ord)),
    used AS (
      INSERT INTO usage_counters AS u (owner_id, period, total)
      SELECT owner, period, amount FROM wanted
      ON CONFLICT (owner_id, period) DO UPDATE SET total = u.total + excluded.total
      RETURNING u.owner_id, u.period, u.total)
    SELECT w.name INTO v_name FROM used JOIN wanted w ON w.owner = used.owner_id AND w.period = used.period
     WHERE used.total > w.max ORDER BY w.ord LIMIT 1;
    IF v_name IS NOT NULL THEN
      RAISE EXCEPTION '%', v_name USING ERRCODE = 'KL005';
    END IF;
  END IF;

  r := ledger_transfer(p -> 'transfer');
  IF (r ->> 'replayed')::boolean THEN
    RAISE EXCEPTION 'transaction % already exists', p -> 'transfer' ->> 'id' USING ERRCODE = 'KL003';
  END IF;

  IF jsonb_array_length(coalesce(p -> 'maxBalances', '[]'::jsonb)) > 0 THEN
    FOR lim IN SELECT * FROM jsonb_array_elements(p -> 'maxBalances') LOOP
      SELECT (e ->> 'balanceAfter')::bigint INTO v_after FROM jsonb_array_elements(r -> 'entries') e
       WHERE e ->> 'accountId' = lim ->> 'account' ORDER BY (e ->> 'id')::bigint DESC LIMIT 1;
      IF v_after > (lim ->> 'max')::bigint THEN
        RAISE EXCEPTION '%', lim ->> 'name' USING ERRCODE = 'KL005';
      END IF;
    END LOOP;
  END IF;

  INSERT INTO transactions
  SELECT * FROM jsonb_populate_record(NULL::transactions,
    (p -> 'transaction') || jsonb_build_object('created_at', r -> 'journal' -> 'createdAt', 'updated_at', r -> 'journal' -> 'createdAt'));
  RETURN r;
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION payments_execute(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := (p ->> 'now')::timestamptz;
  i jsonb := p -> 'idempotency';
  r jsonb;
  v_created timestamptz;
  v_after bigint;
  v_body jsonb;
  w jsonb;
BEGIN
  IF i IS NOT NULL THEN
    PERFORM idempotency_lock(i ->> 'scope', i ->> 'key');
  END IF;
  IF p ? 'assume' THEN
    PERFORM payments_assume(p -> 'assume', v_now);
  END IF;

  r := payments_commit(p);
  v_created := (r -> 'journal' ->> 'createdAt')::timestamptz;
  IF p ? 'balanceOf' THEN
    SELECT (e ->> 'balanceAfter')::bigint INTO v_after FROM jsonb_array_elements(r -> 'entries') e
     WHERE e ->> 'accountId' = p ->> 'balanceOf' ORDER BY (e ->> 'id')::bigint DESC LIMIT 1;
  END IF;
  v_body := (p -> 'body') || jsonb_build_object(
    'createdAt', to_char(v_created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'balanceAfter', v_after);

  IF jsonb_array_length(coalesce(p -> 'notifications', '[]'::jsonb)) > 0 THEN
    INSERT INTO notification_outbox (id, to_phone, body, kind, dedupe_key, next_attempt_at, created_at)
    SELECT m ->> 'id', m ->> 'to', m ->> 'body', m ->> 'kind', m ->> 'dedupeKey', v_now, v_now
      FROM jsonb_array_elements(p -> 'notifications') m
    ON CONFLICT (dedupe_key) DO NOTHING;
  END IF;

  IF jsonb_array_length(coalesce(p -> 'webhooks', '[]'::jsonb)) > 0 THEN
    FOR w IN SELECT * FROM jsonb_array_elements(p -> 'webhooks') LOOP
      PERFORM webhooks_enqueue(w || jsonb_build_object('createdAt', v_now,
        'body', jsonb_build_object('id', w ->> 'id', 'type', w ->> 'type',
                                   'createdAt', to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                   'data', jsonb_build_object('transaction', v_body))::text));
    END LOOP;
  END IF;

  IF i IS NOT NULL THEN
    PERFORM idempotency_store(i ->> 'scope', i ->> 'key', i ->> 'requestHash', 201, v_body);
  END IF;
  RETURN v_body;
END $$;
