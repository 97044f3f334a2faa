-- The in-database ceiling of bench/payments (its "In-database ceiling" phase): what Postgres alone does per
-- second for the database work of a payment, with no HTTP and no Bun, on the bench database itself. pgbench
-- calls payments_execute (or ledger_transfer) with a payload built here for party row n, as statementOf
-- (src/payments/service.ts) builds it for a user paying a vendor with the default fee. Safe to apply again;
-- by hand on a kept bench database: psql -d keshless_bench_… -f bench/sql/payments-ceiling.sql.

-- Real parties: each active user with an SZL wallet, paired with a vendor (users spread evenly over the
-- vendors) and its wallet, and the fee account; row n for pgbench's `random(1, rows)`. What the payload would
-- otherwise compute per call (the payee's view of the payer: name or masked phone) is computed once here.
DROP TABLE IF EXISTS bench_ceiling_parties;
CREATE TABLE bench_ceiling_parties AS
WITH u AS (
  SELECT row_number() OVER (ORDER BY u.id) AS n, u.id, u.phone, u.name, a.id AS account
    FROM users u JOIN ledger_accounts a ON a.code = 'user_wallet:' || u.id || ':SZL'
   WHERE u.status = 'active'),
v AS (
  SELECT row_number() OVER (ORDER BY v.id) - 1 AS i, count(*) OVER () AS m, v.id, v.name, v.phone, a.id AS account
    FROM vendors v JOIN ledger_accounts a ON a.code = 'vendor_wallet:' || v.id || ':SZL'
   WHERE v.status = 'active')
SELECT u.n::int AS n,
       u.id AS user_id, u.phone AS user_phone, u.name AS user_name, u.account AS user_account,
       coalesce(u.name, CASE WHEN length(u.phone) > 7
                             THEN left(u.phone, 4) || repeat('*', length(u.phone) - 7) || right(u.phone, 3)
                             ELSE '***' END) AS user_shown,
       v.id AS vendor_id, v.phone AS vendor_phone, v.name AS vendor_name, v.account AS vendor_account,
       f.id AS fee_account
  FROM u
  JOIN v ON v.i = (u.n - 1) % v.m
  JOIN ledger_accounts f ON f.code = 'fee_revenue:system:SZL';

ALTER TABLE bench_ceiling_parties ADD PRIMARY KEY (n);
ANALYZE bench_ceiling_parties;

-- Cents for people, as formatAmount (src/lib/money.ts): 150 → E1.50. A plain expression: inlined where used.
CREATE OR REPLACE FUNCTION bench_ceiling_amount(c bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 'E' || (c / 100) || '.' || lpad((c % 100)::text, 2, '0')
$$;
-- payments_execute's payload for party row n: a fresh transaction id (20 random characters after txn_, as
-- newId), an amount of E1.00–E10.00 as the bench pays, the default payment fee (src/config/payments.ts: 1% with a
-- E0.50 minimum and E10 maximum, borne by the sender), three legs, the daily and monthly usage counters (max:
-- the bench's KESHLESS_KYC_LIMITS, high enough that no row runs into one, checked all the same), the payer's
-- and the payee's notification, an idempotency key; no `assume`. One primary-key read and JSON building:
-- pgbench measures its own cost alone, to correct the ceiling for it.
CREATE OR REPLACE FUNCTION bench_ceiling_payload(p_n integer) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  p bench_ceiling_parties;
  v_id text := 'txn_' || left(replace(gen_random_uuid()::text, '-', ''), 20);
  v_amount bigint := 100 + floor(random() * 901)::bigint;
  v_fee bigint;
  v_debit bigint;
  v_local timestamp := (now() AT TIME ZONE 'UTC') + interval '2 hours'; -- Eswatini: limits count local days
  v_legs jsonb;
BEGIN
  SELECT * INTO STRICT p FROM bench_ceiling_parties WHERE n = p_n;
  v_fee := least(1000, greatest(50, (v_amount * 100 + 5000) / 10000));
  v_debit := v_amount + v_fee;
  v_legs := jsonb_build_array(
    jsonb_build_object('account', p.user_account, 'amount', (-v_debit)::text),
    jsonb_build_object('account', p.vendor_account, 'amount', v_amount::text),
    jsonb_build_object('account', p.fee_account, 'amount', v_fee::text));
  RETURN jsonb_build_object(
    'now', now(),
    'limits', jsonb_build_array(
      jsonb_build_object('owner', p.user_id, 'period', 'd:' || to_char(v_local, 'YYYY-MM-DD'),
                         'amount', v_debit::text, 'max', '1000000000', 'name', 'daily'),
      jsonb_build_object('owner', p.user_id, 'period', 'm:' || to_char(v_local, 'YYYY-MM'),
                         'amount', v_debit::text, 'max', '1000000000', 'name', 'monthly')),
    'maxBalances', '[]'::jsonb,
    'transfer', jsonb_build_object(
      'id', v_id, 'kind', 'payment',
      'request', jsonb_build_object('kind', 'payment', 'legs', v_legs),
      'metadata', jsonb_build_object('type', 'payment'),
      'legs', v_legs),
    'transaction', jsonb_build_object(
      'id', v_id, 'type', 'payment', 'status', 'completed', 'amount', v_amount::text, 'fee', v_fee::text,
      'fee_bearer', 'sender', 'currency', 'SZL',
      'payer_type', 'user', 'payer_id', p.user_id, 'payer_name', p.user_name, 'payer_account', p.user_account,
      'payee_type', 'vendor', 'payee_id', p.vendor_id, 'payee_name', p.vendor_name, 'payee_account', p.vendor_account,
      'partner_id', NULL, 'reference', NULL, 'external_reference', NULL, 'metadata', '{}'::jsonb),
    'body', jsonb_build_object(
      'id', v_id, 'type', 'payment', 'status', 'completed', 'amount', v_amount, 'currency', 'SZL', 'fee', v_fee,
      'feeBearer', 'sender', 'direction', 'debit',
      'counterparty', jsonb_build_object('type', 'vendor', 'id', p.vendor_id, 'name', p.vendor_name),
      'reference', NULL),
    'balanceOf', p.user_account,
    'notifications', jsonb_build_array(
      jsonb_build_object(
        'id', 'ntf_' || left(replace(gen_random_uuid()::text, '-', ''), 20), 'to', p.user_phone,
        'kind', 'payment_sent', 'dedupeKey', v_id || ':payer',
        'body', 'Keshless: you paid ' || bench_ceiling_amount(v_amount) || ' to ' || p.vendor_name
                || ' (fee ' || bench_ceiling_amount(v_fee) || '). Ref ' || v_id || '.'),
      jsonb_build_object(
        'id', 'ntf_' || left(replace(gen_random_uuid()::text, '-', ''), 20), 'to', p.vendor_phone,
        'kind', 'payment_received', 'dedupeKey', v_id || ':payee',
        'body', 'Keshless: you received ' || bench_ceiling_amount(v_amount) || ' from ' || p.user_shown
                || '. Ref ' || v_id || '.')),
    'webhooks', '[]'::jsonb,
    'idempotency', jsonb_build_object(
      'scope', 'user:' || p.user_id, 'key', 'ceiling-' || v_id, 'requestHash', md5(v_id) || md5(p.user_id)));
END $$;
