-- Collision-free home shards. ledger_apply started a sharded account's probe at pg_backend_pid() % shard_count:
-- 16 pooled connections over 32 shards always share some of those (the birthday bound), and the payments bench
-- (bench/RESULTS.md "Payments", item 4) found 947 of 1,346 serialization failures at that probe. Each session
-- now holds a slot number of its own instead, so a pool's connections start on distinct shards whenever
-- shard_count ≥ the sessions writing at once (across all instances), without raising the shard count.
--
-- The lowest slot no other live session holds, kept by a session-level advisory lock (key 7264003, slot) and
-- cached in the setting keshless.home_shard. Why a lock and not a number from a sequence:
-- * set_config(…, false) is reverted when the transaction that called it rolls back (a 40001 retry, an
--   insufficient-funds refusal); the advisory lock is not, so recomputing the slot finds the same one again
--   (advisory locks are re-entrant) where a sequence would hand out a new number each time.
-- * a slot is freed when its session ends and reused, so the live sessions keep the lowest slots whatever the
--   churn (reconnects, rolled-back first transactions); a sequence's live numbers spread wider with each, and
--   two that are shard_count apart meet.
-- A lower slot freed between a rollback and the recompute is taken as well, leaving the old one held until the
-- session ends: others skip it, harmless. The slot only picks where to start probing, never what is written.
CREATE FUNCTION ledger_home_shard() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_home integer := nullif(current_setting('keshless.home_shard', true), '')::integer;
BEGIN
  IF v_home IS NULL THEN
    v_home := 0;
    WHILE NOT pg_try_advisory_lock(7264003, v_home) LOOP
      v_home := v_home + 1;
    END LOOP;
    PERFORM set_config('keshless.home_shard', v_home::text, false);
  END IF;
  RETURN v_home;
END $$;

--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_apply(p_journal text, p_account text, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  acc record;
  v_shard smallint;
  v_after bigint;
  v_left bigint;
  v_take bigint;
  s record;
  v_start smallint;
  v_got boolean := false;
  v_out jsonb := '[]'::jsonb;
BEGIN
  SELECT currency, guarded, shard_count INTO acc FROM ledger_accounts WHERE id = p_account;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'account % not found', p_account USING ERRCODE = 'KL002';
  END IF;

  IF acc.shard_count = 1 OR p_amount > 0 OR NOT acc.guarded THEN
    IF acc.shard_count = 1 THEN
      v_shard := 0;
    ELSE
      -- Read one shard row at a time. Under SERIALIZABLE every row read leaves a SIREAD lock, and another
      -- transaction's write to that row is a rw-conflict: ORDER BY random() read all the shards, so any two
      -- concurrent writers of the account formed a cycle and one was aborted. Start at this connection's home
      -- shard (a pool's connections spread over the shards and seldom meet) and skip rows others hold.
      -- The home comes from ledger_home_shard(), not pg_backend_pid(): pids modulo the shard count collide.
      v_start := (ledger_home_shard() % acc.shard_count)::smallint;
      FOR i IN 0 .. acc.shard_count - 1 LOOP
        v_shard := (v_start + i) % acc.shard_count;
        PERFORM 1 FROM ledger_balances WHERE account_id = p_account AND shard = v_shard FOR UPDATE SKIP LOCKED;
        v_got := FOUND;
        EXIT WHEN v_got;
      END LOOP;
      IF NOT v_got THEN
        v_shard := v_start; -- every shard is busy: wait for the home one
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
    VALUES (p_journal, p_account, v_shard, acc.currency, p_amount, v_after)
    RETURNING jsonb_build_array(jsonb_build_object('id', id::text, 'accountId', account_id, 'shard', shard,
              'currency', currency, 'amount', amount::text, 'balanceAfter', balance_after::text)) INTO v_out;
    RETURN v_out;
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
    VALUES (p_journal, p_account, s.shard, acc.currency, -v_take, v_after)
    RETURNING v_out || jsonb_build_array(jsonb_build_object('id', id::text, 'accountId', account_id, 'shard', shard,
              'currency', currency, 'amount', amount::text, 'balanceAfter', balance_after::text)) INTO v_out;
    v_left := v_left - v_take;
  END LOOP;
  IF v_left > 0 THEN
    RAISE EXCEPTION 'insufficient funds in %', p_account USING ERRCODE = 'KL001';
  END IF;
  RETURN v_out;
END $$;
