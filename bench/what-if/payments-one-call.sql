-- WHAT-IF (not a migration): a vendor payment in ONE statement, for the prototype entry
-- bench/what-if/server.ts (BENCH_WHAT_IF=onecall). Applied by `bun run bench payments --sql=<this file>`.
--
-- Today POST /v1/payments makes 11 round trips (bench/RESULTS.md): session check, the user row twice (verifyPin,
-- activeUser), the vendor by code, BEGIN, advisory lock + idempotency lookup, payments_commit, two outbox
-- INSERTs, the idempotency INSERT, COMMIT — each an unprepared drizzle statement that Postgres parses and plans
-- again, and each SERIALIZABLE read leaving SIREAD locks. This function does the same work in one autocommit
-- statement (the connection's default isolation, SERIALIZABLE): one round trip, plans cached per connection.
--
-- What it keeps: every rule of the current path — session not revoked/expired, user active, PIN (compared as
-- HMACs the app computes: the pepper never reaches the database), wrong PINs counted and locking (committed:
-- the function returns instead of raising), vendor active, KYC limits (per transaction, daily, monthly), fee
-- leg, ledger_transfer, the transactions row, both outbox messages (same dedupe keys and texts), the stored
-- idempotent answer, the in-flight advisory lock. What it changes: the idempotency row is written LAST with
-- INSERT … ON CONFLICT DO NOTHING instead of being looked up first — a lookup of a key that is not there
-- reads (and SIREAD-locks) the index page that concurrent payments insert their keys into, the top source of
-- 40001 in the measured code. A key that exists makes the function raise KL009, rolling the payment back; the
-- app then reads the stored answer (a replay is rare: a client retrying after a lost answer).
-- Not prototyped: the audit rows of a wrong PIN (user.pin.failed / user.pin.locked) — one more INSERT on that
-- (rare) path.

CREATE OR REPLACE FUNCTION payments_pay(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  u record;
  v record;
  v_now timestamptz := (p ->> 'now')::timestamptz;
  v_limits jsonb;
  v_amount bigint := (p ->> 'amount')::bigint;
  v_fee bigint := (p ->> 'fee')::bigint;
  v_debit bigint := (p ->> 'debit')::bigint;
  v_credit bigint := (p ->> 'credit')::bigint;
  v_payer text;
  v_payee text;
  v_fee_account text;
  v_total bigint;
  v_legs jsonb;
  r jsonb;
  v_created timestamptz;
  v_after bigint;
  v_body jsonb;
  v_id text := p ->> 'txnId';
  v_max smallint := (p ->> 'pinMaxAttempts')::smallint;
  v_fmt_amount text := 'E' || (v_amount / 100)::text || '.' || lpad((v_amount % 100)::text, 2, '0');
  v_fmt_credit text := 'E' || (v_credit / 100)::text || '.' || lpad((v_credit % 100)::text, 2, '0');
  v_fmt_fee text := 'E' || (v_fee / 100)::text || '.' || lpad((v_fee % 100)::text, 2, '0');
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended((p ->> 'scope') || ' ' || (p ->> 'key'), 0)) THEN
    RETURN jsonb_build_object('status', 409, 'code', 'IDEMPOTENCY_IN_PROGRESS',
      'message', 'A request with this Idempotency-Key is still being processed.');
  END IF;

  SELECT us.id, us.phone, us.name, us.kyc_tier, us.status, us.pin_hash, us.pin_key_id, us.pin_failed_count,
         us.pin_locked_until
    INTO u
    FROM users us JOIN auth_sessions s ON s.id = p ->> 'sessionId'
   WHERE us.id = p ->> 'userId' AND s.principal_id = us.id AND s.principal_type = 'user'
     AND s.revoked_at IS NULL AND s.expires_at > v_now;
  IF NOT FOUND OR u.status = 'deleted' THEN
    RETURN jsonb_build_object('status', 401, 'code', 'UNAUTHENTICATED', 'message', 'The session has ended; sign in again.');
  END IF;
  IF u.status <> 'active' THEN
    RETURN jsonb_build_object('status', 403, 'code', 'ACCOUNT_FROZEN', 'message', 'This account cannot move money right now.');
  END IF;
  IF u.pin_hash IS NULL THEN
    RETURN jsonb_build_object('status', 403, 'code', 'FORBIDDEN', 'message', 'Set a transaction PIN first.',
      'details', jsonb_build_object('reason', 'PIN_NOT_SET'));
  END IF;
  IF u.pin_locked_until > v_now THEN
    RETURN jsonb_build_object('status', 403, 'code', 'FORBIDDEN', 'message', 'Too many wrong PINs.',
      'details', jsonb_build_object('reason', 'PIN_LOCKED', 'lockedUntil', u.pin_locked_until));
  END IF;
  IF p -> 'pin' ->> u.pin_key_id IS DISTINCT FROM u.pin_hash THEN
    UPDATE users SET
      pin_failed_count = CASE WHEN pin_failed_count + 1 >= v_max THEN 0 ELSE pin_failed_count + 1 END,
      pin_locked_until = CASE WHEN pin_failed_count + 1 >= v_max
                              THEN v_now + make_interval(secs => (p ->> 'pinLockSeconds')::int)
                              ELSE pin_locked_until END,
      updated_at = v_now
     WHERE id = u.id;
    RETURN jsonb_build_object('status', 401, 'code', 'INVALID_PIN', 'message', 'Wrong PIN.',
      'details', jsonb_build_object('attemptsRemaining', greatest(0, v_max - u.pin_failed_count - 1)));
  END IF;
  IF u.pin_failed_count > 0 THEN
    UPDATE users SET pin_failed_count = 0 WHERE id = u.id;
  END IF;

  SELECT id, name, phone, status INTO v FROM vendors WHERE code = p ->> 'vendorCode';
  IF NOT FOUND THEN
    RETURN jsonb_build_object('status', 404, 'code', 'NOT_FOUND', 'message', 'No vendor has that code.');
  END IF;
  IF v.status <> 'active' THEN
    RETURN jsonb_build_object('status', 403, 'code', 'ACCOUNT_FROZEN', 'message', 'This vendor cannot take payments right now.');
  END IF;

  v_limits := coalesce(p -> 'tiers' -> u.kyc_tier::text, p -> 'tiers' -> '0');
  IF v_debit > (v_limits ->> 'perTransaction')::bigint THEN
    RETURN jsonb_build_object('status', 422, 'code', 'LIMIT_EXCEEDED',
      'message', 'This is more than one transaction may move at your KYC tier.',
      'details', jsonb_build_object('limit', 'perTransaction', 'max', (v_limits ->> 'perTransaction')::bigint));
  END IF;
  INSERT INTO usage_counters AS c (owner_id, period, total) VALUES (u.id, p ->> 'day', v_debit)
  ON CONFLICT (owner_id, period) DO UPDATE SET total = c.total + excluded.total RETURNING total INTO v_total;
  IF v_total > (v_limits ->> 'daily')::bigint THEN
    RAISE EXCEPTION 'daily' USING ERRCODE = 'KL005';
  END IF;
  INSERT INTO usage_counters AS c (owner_id, period, total) VALUES (u.id, p ->> 'month', v_debit)
  ON CONFLICT (owner_id, period) DO UPDATE SET total = c.total + excluded.total RETURNING total INTO v_total;
  IF v_total > (v_limits ->> 'monthly')::bigint THEN
    RAISE EXCEPTION 'monthly' USING ERRCODE = 'KL005';
  END IF;

  SELECT id INTO v_payer FROM ledger_accounts WHERE code = 'user_wallet:' || u.id || ':SZL';
  SELECT id INTO v_payee FROM ledger_accounts WHERE code = 'vendor_wallet:' || v.id || ':SZL';
  IF v_payer IS NULL OR v_payee IS NULL THEN
    RAISE EXCEPTION 'wallet not found' USING ERRCODE = 'KL002';
  END IF;
  v_legs := jsonb_build_array(jsonb_build_object('account', v_payer, 'amount', (-v_debit)::text),
                              jsonb_build_object('account', v_payee, 'amount', v_credit::text));
  IF v_fee > 0 THEN
    v_fee_account := p ->> 'feeAccount'; -- the app's cached ledger.systemAccount('fee_revenue'), as today
    v_legs := v_legs || jsonb_build_array(jsonb_build_object('account', v_fee_account, 'amount', v_fee::text));
  END IF;
  r := ledger_transfer(jsonb_build_object('id', v_id, 'kind', 'payment',
         'request', jsonb_build_object('kind', 'payment', 'legs', v_legs), 'metadata', jsonb_build_object('type', 'payment'),
         'legs', v_legs));
  IF (r ->> 'replayed')::boolean THEN
    RAISE EXCEPTION 'transaction % already exists', v_id USING ERRCODE = 'KL003';
  END IF;
  v_created := (r -> 'journal' ->> 'createdAt')::timestamptz;
  SELECT (e ->> 'balanceAfter')::bigint INTO v_after FROM jsonb_array_elements(r -> 'entries') e
   WHERE e ->> 'accountId' = v_payer ORDER BY (e ->> 'id')::bigint DESC LIMIT 1;

  INSERT INTO transactions (id, type, status, amount, fee, fee_bearer, currency, payer_type, payer_id, payer_name,
                            payer_account, payee_type, payee_id, payee_name, payee_account, reference, created_at, updated_at)
  VALUES (v_id, 'payment', 'completed', v_amount, v_fee, p ->> 'feeBearer', 'SZL', 'user', u.id, u.name, v_payer,
          'vendor', v.id, v.name, v_payee, p ->> 'reference', v_created, v_created);

  -- p.notify = false only in an ablation run (BENCH_WHAT_IF=…,nonotify): what the two messages cost.
  IF coalesce((p ->> 'notify')::boolean, true) THEN
  INSERT INTO notification_outbox (id, to_phone, body, kind, dedupe_key, next_attempt_at, created_at) VALUES
    (p -> 'notificationIds' ->> 0, u.phone,
     'Keshless: you paid ' || v_fmt_amount || ' to ' || v.name
       || CASE WHEN v_fee > 0 THEN ' (fee ' || v_fmt_fee || ')' ELSE '' END || '. Ref ' || v_id || '.',
     'payment_sent', v_id || ':payer', v_now, v_now),
    (p -> 'notificationIds' ->> 1, v.phone,
     'Keshless: you received ' || v_fmt_credit || ' from ' || coalesce(u.name, CASE WHEN length(u.phone) > 7
       THEN left(u.phone, 4) || repeat('*', length(u.phone) - 7) || right(u.phone, 3) ELSE '***' END) || '. Ref ' || v_id || '.',
     'payment_received', v_id || ':payee', v_now, v_now);
  END IF;

  v_body := jsonb_build_object('id', v_id, 'type', 'payment', 'status', 'completed', 'amount', v_amount,
    'currency', 'SZL', 'fee', v_fee, 'feeBearer', p ->> 'feeBearer', 'direction', 'debit',
    'counterparty', jsonb_build_object('type', 'vendor', 'id', v.id, 'name', v.name),
    'reference', p -> 'reference',
    'createdAt', to_char(v_created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'balanceAfter', v_after);

  INSERT INTO idempotency_keys (scope, key, request_hash, status, body)
  VALUES (p ->> 'scope', p ->> 'key', p ->> 'requestHash', 201, v_body)
  ON CONFLICT (scope, key) DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'idempotency key exists' USING ERRCODE = 'KL009';
  END IF;
  RETURN jsonb_build_object('status', 201, 'body', v_body);
END $$;
