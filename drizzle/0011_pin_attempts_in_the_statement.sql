-- Wrong PINs counted where they are compared (issue 11: the wrong-PIN limit fell to concurrency).
--
-- The fast lane compared the PIN inside payments_assume and, on a mismatch, rolled everything back (KL010)
-- so the ordinary path could count it. Between that rollback and the count, any number of concurrent
-- statements compared their own guesses against the same uncounted state: a burst of 30 guesses was 30
-- evaluations. Now the paying user's row is locked before the comparison (so every evaluation for one
-- user, here or in src/identity/attempts.ts, is ordered against the latest count), and a mismatch is
-- counted by this same statement, which then returns the refusal instead of moving money.
DROP FUNCTION payments_assume(jsonb, timestamptz);

--> statement-breakpoint
-- NULL when every assumption holds; {"pinRejected": {...}} after counting a wrong PIN (nothing else written);
-- KL010 when anything else differs (the ordinary path decides, and evaluates no PIN here).
CREATE FUNCTION payments_assume(a jsonb, p_now timestamptz) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_payer jsonb;
  v_hash text;
  v_failed int;
  v_locked timestamptz;
  v_max int := coalesce((a -> 'pinLimit' ->> 'max')::int, 5);
  v_lock interval := coalesce((a -> 'pinLimit' ->> 'lockSeconds')::int, 900) * interval '1 second';
BEGIN
  SELECT x INTO v_payer FROM jsonb_array_elements(coalesce(a -> 'users', '[]'::jsonb)) x WHERE x ? 'pin' LIMIT 1;
  IF v_payer IS NOT NULL THEN
    -- FOR NO KEY UPDATE: waits for (or, under SERIALIZABLE, fails with 40001 after) any concurrent count.
    SELECT u.pin_hash INTO v_hash FROM users u WHERE u.id = v_payer ->> 'id' FOR NO KEY UPDATE;
  END IF;
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
            AND (NOT x ? 'pin' OR (u.pin_key_id = x -> 'pin' ->> 'keyId' AND u.pin_hash IS NOT NULL
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
  IF v_payer IS NOT NULL AND v_hash IS DISTINCT FROM v_payer -> 'pin' ->> 'hash' THEN
    -- The same count and lock as src/identity/attempts.ts checkUnderLock (the row is locked above): the lock
    -- consumes the count.
    UPDATE users SET
      pin_failed_count = CASE WHEN pin_failed_count + 1 >= v_max THEN 0 ELSE pin_failed_count + 1 END,
      pin_locked_until = CASE WHEN pin_failed_count + 1 >= v_max THEN p_now + v_lock ELSE NULL END
     WHERE id = v_payer ->> 'id'
    RETURNING pin_failed_count, pin_locked_until INTO v_failed, v_locked;
    RETURN jsonb_build_object('pinRejected', jsonb_build_object(
      'failures', CASE WHEN v_locked IS NOT NULL THEN v_max ELSE v_failed END,
      'lockedUntil', to_char(v_locked AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
  END IF;
  RETURN NULL;
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
  v_refused jsonb;
  w jsonb;
BEGIN
  IF i IS NOT NULL THEN
    PERFORM idempotency_lock(i ->> 'scope', i ->> 'key');
  END IF;
  IF p ? 'assume' THEN
    v_refused := payments_assume(p -> 'assume', v_now);
    IF v_refused IS NOT NULL THEN
      RETURN v_refused;
    END IF;
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
