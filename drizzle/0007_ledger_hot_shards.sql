-- Hot accounts, measured by bench/ledger (bench/RESULTS.md):
-- 1. ledger_apply picks a shard of a sharded account by probing one balance row at a time (FOR UPDATE SKIP
--    LOCKED) from the connection's home shard. `ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED` read every
--    shard row, so under SSI any two concurrent writers of one account conflicted and sharding bought nothing.
-- 2. ledger_apply returns the entries it wrote and ledger_transfer answers from them, instead of re-reading
--    them through ledger_journal_json (re-planned per call, and a SIREAD lock on the journal index).
DROP FUNCTION ledger_apply(text, text, bigint);

--> statement-breakpoint
CREATE FUNCTION ledger_apply(p_journal text, p_account text, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
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
      v_start := (pg_backend_pid() % acc.shard_count)::smallint;
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
  FOR leg IN SELECT l ->> 'account' AS account, sum((l ->> 'amount')::bigint) AS amount
               FROM jsonb_array_elements(p -> 'legs') l GROUP BY 1 ORDER BY 1 LOOP
    CONTINUE WHEN leg.amount = 0;
    v_entries := v_entries || ledger_apply(p ->> 'id', leg.account, leg.amount::bigint);
  END LOOP;
  -- Entries in the order written, which is ledger_journal_json's (ORDER BY e.id).
  RETURN jsonb_build_object(
    'replayed', false,
    'journal', jsonb_build_object('id', j.id, 'kind', j.kind, 'reversalOf', j.reversal_of, 'holdId', j.hold_id,
                                  'request', j.request, 'metadata', j.metadata, 'createdAt', j.created_at),
    'entries', v_entries);
END $$;
