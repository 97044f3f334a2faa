-- Journal sums once per statement (issue 17). A journal's running sums (imbalance, entry_count), which the
-- deferred ledger_journals_balanced check reads at commit, were kept by a row trigger: one UPDATE of the journal
-- per entry, three per payment. Now a statement trigger adds each INSERT's entries to their journals at once,
-- with the same refusal (only the transaction that created a journal may add to it), and ledger_transfer writes
-- all of a journal's entries in one INSERT: one journal update per movement. What the database refuses is
-- unchanged: an entry outside its journal's transaction, and at commit a journal with fewer than two entries or
-- a currency that does not sum to zero.
DROP TRIGGER ledger_entries_accumulate ON ledger_entries;
--> statement-breakpoint
DROP FUNCTION ledger_entry_accumulate();
--> statement-breakpoint
CREATE FUNCTION ledger_entries_accumulate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_orphan text;
BEGIN
  WITH per_currency AS (
    SELECT journal_id, currency, sum(amount) AS total, count(*) AS n FROM new_entries GROUP BY 1, 2),
  per_journal AS (
    SELECT journal_id, jsonb_object_agg(currency, total) AS sums, sum(n)::int AS n FROM per_currency GROUP BY 1),
  updated AS (
    UPDATE ledger_journals j
       SET imbalance = j.imbalance || (SELECT jsonb_object_agg(s.key, coalesce((j.imbalance ->> s.key)::bigint, 0)
                                                                   + s.value::bigint)
                                         FROM jsonb_each_text(pj.sums) s),
           entry_count = j.entry_count + pj.n
      FROM per_journal pj
     WHERE j.id = pj.journal_id AND j.txid = txid_current()
    RETURNING j.id)
  SELECT pj.journal_id INTO v_orphan FROM per_journal pj
   WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.id = pj.journal_id) LIMIT 1;
  IF v_orphan IS NOT NULL THEN
    RAISE EXCEPTION 'entries can only be added to a journal by the transaction that creates it' USING ERRCODE = 'KL004';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER ledger_entries_accumulate AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_accumulate();
--> statement-breakpoint
-- What ledger_apply_to (drizzle/0010) decided, without writing the entries: the balance rows are updated and
-- the entries to write are returned ({account, shard, currency, amount, balanceAfter}, in order), so a caller
-- can write several accounts' entries in one INSERT. Shard choice and balance guards as before.
CREATE FUNCTION ledger_move(acc ledger_accounts, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
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
    RETURN jsonb_build_array(jsonb_build_object('account', acc.id, 'shard', v_shard, 'currency', acc.currency,
                                                'amount', p_amount, 'balanceAfter', v_after));
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
    v_out := v_out || jsonb_build_array(jsonb_build_object('account', acc.id, 'shard', s.shard,
                                        'currency', acc.currency, 'amount', -v_take, 'balanceAfter', v_after));
    v_left := v_left - v_take;
  END LOOP;
  IF v_left > 0 THEN
    RAISE EXCEPTION 'insufficient funds in %', acc.id USING ERRCODE = 'KL001';
  END IF;
  RETURN v_out;
END $$;
--> statement-breakpoint
-- Writes moves (ledger_move's answers) as entries of a journal in ONE statement; the entries as written, in order.
CREATE FUNCTION ledger_write_entries(p_journal text, p_moves jsonb) RETURNS jsonb LANGUAGE sql AS $$
  WITH written AS (
    INSERT INTO ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
    SELECT p_journal, m.x ->> 'account', (m.x ->> 'shard')::smallint, m.x ->> 'currency', (m.x ->> 'amount')::bigint,
           (m.x ->> 'balanceAfter')::bigint
      FROM jsonb_array_elements(p_moves) WITH ORDINALITY AS m(x, ord) ORDER BY m.ord
    RETURNING id, account_id, shard, currency, amount, balance_after)
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', id::text, 'accountId', account_id, 'shard', shard,
                                               'currency', currency, 'amount', amount::text,
                                               'balanceAfter', balance_after::text) ORDER BY id), '[]'::jsonb)
    FROM written
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_apply_to(p_journal text, acc ledger_accounts, p_amount bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN ledger_write_entries(p_journal, ledger_move(acc, p_amount));
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION ledger_transfer(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  leg record;
  j ledger_journals;
  v_moves jsonb := '[]'::jsonb;
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
    v_moves := v_moves || ledger_move(leg.acc, leg.amount::bigint);
  END LOOP;
  -- Every leg's entries in one INSERT (one journal update by ledger_entries_accumulate), in the order the legs
  -- were applied, which is ledger_journal_json's (ORDER BY e.id).
  RETURN jsonb_build_object(
    'replayed', false,
    'journal', jsonb_build_object('id', j.id, 'kind', j.kind, 'reversalOf', j.reversal_of, 'holdId', j.hold_id,
                                  'request', j.request, 'metadata', j.metadata, 'createdAt', j.created_at),
    'entries', ledger_write_entries(j.id, v_moves));
END $$;
