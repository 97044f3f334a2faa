CREATE TABLE "idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"amount" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"fee_bearer" text NOT NULL,
	"currency" text NOT NULL,
	"payer_type" text NOT NULL,
	"payer_id" text NOT NULL,
	"payer_name" text,
	"payer_account" text NOT NULL,
	"payee_type" text NOT NULL,
	"payee_id" text NOT NULL,
	"payee_name" text,
	"payee_account" text NOT NULL,
	"partner_id" text,
	"reference" text,
	"external_reference" text,
	"hold_id" text,
	"reversal_of" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_counters" (
	"owner_id" text NOT NULL,
	"period" text NOT NULL,
	"total" bigint NOT NULL,
	CONSTRAINT "usage_counters_owner_id_period_pk" PRIMARY KEY("owner_id","period")
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "transactions_payer_idx" ON "transactions" USING btree ("payer_account","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_payee_idx" ON "transactions" USING btree ("payee_account","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "transactions_type_created_idx" ON "transactions" USING btree ("type","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "transactions_partner_reference_idx" ON "transactions" USING btree ("partner_id","external_reference") WHERE "transactions"."type" = 'deposit';
--> statement-breakpoint
-- One statement per money movement: bump the payer's usage counters against their limits, write the
-- ledger journal, check the payee's maximum balance, and record the transaction row. Any refusal raises
-- and the caller's transaction rolls everything back. KL005 = a limit; the message names it.
CREATE FUNCTION payments_commit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim jsonb;
  v_total bigint;
  v_after bigint;
  r jsonb;
BEGIN
  FOR lim IN SELECT * FROM jsonb_array_elements(coalesce(p -> 'limits', '[]'::jsonb)) LOOP
    INSERT INTO usage_counters AS u (owner_id, period, total)
    VALUES (lim ->> 'owner', lim ->> 'period', (lim ->> 'amount')::bigint)
    ON CONFLICT (owner_id, period) DO UPDATE SET total = u.total + excluded.total
    RETURNING total INTO v_total;
    IF v_total > (lim ->> 'max')::bigint THEN
      RAISE EXCEPTION '%', lim ->> 'name' USING ERRCODE = 'KL005';
    END IF;
  END LOOP;

  r := ledger_transfer(p -> 'transfer');
  IF (r ->> 'replayed')::boolean THEN
    RAISE EXCEPTION 'transaction % already exists', p -> 'transfer' ->> 'id' USING ERRCODE = 'KL003';
  END IF;

  FOR lim IN SELECT * FROM jsonb_array_elements(coalesce(p -> 'maxBalances', '[]'::jsonb)) LOOP
    SELECT (e ->> 'balanceAfter')::bigint INTO v_after FROM jsonb_array_elements(r -> 'entries') e
     WHERE e ->> 'accountId' = lim ->> 'account' ORDER BY (e ->> 'id')::bigint DESC LIMIT 1;
    IF v_after > (lim ->> 'max')::bigint THEN
      RAISE EXCEPTION '%', lim ->> 'name' USING ERRCODE = 'KL005';
    END IF;
  END LOOP;

  INSERT INTO transactions
  SELECT * FROM jsonb_populate_record(NULL::transactions,
    (p -> 'transaction') || jsonb_build_object('created_at', r -> 'journal' -> 'createdAt', 'updated_at', r -> 'journal' -> 'createdAt'));
  RETURN r;
END $$;
