-- A money movement in one statement (bench/RESULTS.md "Payments": eleven round trips per payment, each
-- statement parsed again, and an idempotency lookup whose SIREAD lock on the key index was the first cause
-- of serialization failures).
--
-- 1. Idempotency is written LAST. idempotency_lock takes the key's transaction-scoped advisory lock (a
--    duplicate in flight gets KL011 → 409); idempotency_store inserts the stored answer with ON CONFLICT DO
--    NOTHING and raises KL009 when the key already exists, which rolls the whole movement back; the caller
--    then reads the stored answer (replay, or 422 for another body). Nothing looks the key up before writing.
-- 2. payments_execute does everything a movement writes: limits + ledger + transaction row (payments_commit),
--    the notification outbox rows, partner webhook events, the response body and — when given — the
--    idempotency lock and stored answer. Inside a caller's transaction it is one statement of several; on the
--    fast lane (src/payments/fast-lane.ts) it is the whole request, in autocommit.
-- 3. The fast lane plans from cached profiles and states what it assumed (session live, payer's PIN hash,
--    status, tier, names, phones); payments_assume checks each in the same statement and raises KL010 when
--    anything differs, so the request falls back to the ordinary path, whose rules (src/identity) give the
--    exact answer. Nothing here decides a rule: it only confirms that nothing changed.

CREATE FUNCTION idempotency_lock(p_scope text, p_key text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended(p_scope || ' ' || p_key, 0)) THEN
    RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'KL011';
  END IF;
END $$;

--> statement-breakpoint
CREATE FUNCTION idempotency_store(p_scope text, p_key text, p_hash text, p_status int, p_body jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO idempotency_keys (scope, key, request_hash, status, body)
  VALUES (p_scope, p_key, p_hash, p_status, p_body)
  ON CONFLICT (scope, key) DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'idempotency key already used' USING ERRCODE = 'KL009';
  END IF;
END $$;

--> statement-breakpoint
-- The same rows src/webhooks enqueue writes: one event (if the partner has a live endpoint) and one delivery
-- per live endpoint; a repeated dedupe key queues nothing.
CREATE FUNCTION webhooks_enqueue(e jsonb) RETURNS void LANGUAGE sql AS $$
  WITH ev AS (
    INSERT INTO webhook_events (id, partner_id, type, dedupe_key, body, created_at)
    SELECT e ->> 'id', e ->> 'partnerId', e ->> 'type', e ->> 'dedupeKey', e ->> 'body', (e ->> 'createdAt')::timestamptz
     WHERE EXISTS (SELECT 1 FROM webhook_endpoints
                    WHERE partner_id = e ->> 'partnerId' AND active AND deleted_at IS NULL)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, partner_id, type, created_at)
  INSERT INTO webhook_deliveries (id, event_id, endpoint_id, partner_id, event_type, next_attempt_at, created_at)
  SELECT 'whd_' || substr(md5(ev.id || ':' || w.id), 1, 20), ev.id, w.id, ev.partner_id, ev.type,
         ev.created_at, ev.created_at
    FROM ev JOIN webhook_endpoints w ON w.partner_id = ev.partner_id AND w.active AND w.deleted_at IS NULL;
$$;

--> statement-breakpoint
CREATE FUNCTION payments_assume(a jsonb, p_now timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  x jsonb;
BEGIN
  IF a ? 'session' THEN
    PERFORM 1 FROM auth_sessions
     WHERE id = a -> 'session' ->> 'id' AND principal_type = a -> 'session' ->> 'principalType'
       AND principal_id = a -> 'session' ->> 'principalId' AND revoked_at IS NULL AND expires_at > p_now;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'session' USING ERRCODE = 'KL010';
    END IF;
  END IF;
  FOR x IN SELECT * FROM jsonb_array_elements(coalesce(a -> 'users', '[]'::jsonb)) LOOP
    PERFORM 1 FROM users
     WHERE id = x ->> 'id' AND status = 'active' AND phone = x ->> 'phone' AND name IS NOT DISTINCT FROM x ->> 'name'
       AND kyc_tier = (x ->> 'kycTier')::smallint
       AND (NOT x ? 'pin' OR (pin_key_id = x -> 'pin' ->> 'keyId' AND pin_hash = x -> 'pin' ->> 'hash'
                               AND pin_failed_count = 0 AND (pin_locked_until IS NULL OR pin_locked_until <= p_now)));
    IF NOT FOUND THEN
      RAISE EXCEPTION 'user' USING ERRCODE = 'KL010';
    END IF;
  END LOOP;
  FOR x IN SELECT * FROM jsonb_array_elements(coalesce(a -> 'vendors', '[]'::jsonb)) LOOP
    PERFORM 1 FROM vendors
     WHERE id = x ->> 'id' AND status = 'active' AND phone = x ->> 'phone' AND name = x ->> 'name';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'vendor' USING ERRCODE = 'KL010';
    END IF;
  END LOOP;
END $$;

--> statement-breakpoint
CREATE FUNCTION payments_execute(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
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

  INSERT INTO notification_outbox (id, to_phone, body, kind, dedupe_key, next_attempt_at, created_at)
  SELECT m ->> 'id', m ->> 'to', m ->> 'body', m ->> 'kind', m ->> 'dedupeKey', v_now, v_now
    FROM jsonb_array_elements(coalesce(p -> 'notifications', '[]'::jsonb)) m
  ON CONFLICT (dedupe_key) DO NOTHING;

  FOR w IN SELECT * FROM jsonb_array_elements(coalesce(p -> 'webhooks', '[]'::jsonb)) LOOP
    PERFORM webhooks_enqueue(w || jsonb_build_object('createdAt', v_now,
      'body', jsonb_build_object('id', w ->> 'id', 'type', w ->> 'type',
                                 'createdAt', to_char(v_now AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                 'data', jsonb_build_object('transaction', v_body))::text));
  END LOOP;

  IF i IS NOT NULL THEN
    PERFORM idempotency_store(i ->> 'scope', i ->> 'key', i ->> 'requestHash', 201, v_body);
  END IF;
  RETURN v_body;
END $$;
