-- Partners under dual control, each with a funding limit (one finance admin alone could create money).
--
-- * A partner made over HTTP waits for a second admin: status 'pending' until approved, 'rejected' when refused
--   or expired. Its key (and any key with deposits:create issued or rotated over HTTP) is inert while
--   partner_api_keys.pending_approval names the open approval request.
-- * partners.funding_limit (cents) is the partner's prefunded float (as Mojaloop's net debit cap): deposits may
--   take its settlement account down to -funding_limit and no further. payments_commit checks it in the deposit's
--   own statement, after the journal is written, from the settlement account's balance — so reversals give the
--   room back and concurrent deposits cannot overshoot (SERIALIZABLE: the ones that read a stale balance retry).
-- * partner_funding_changes records each change of a limit: top-ups (maker-checker, with the bank's reference of
--   the transfer into the trust account) and decreases (single step).
ALTER TABLE "partners" DROP CONSTRAINT "partners_status";
--> statement-breakpoint
ALTER TABLE "partners" ADD CONSTRAINT "partners_status" CHECK ("partners"."status" in ('pending','active','suspended','rejected'));
--> statement-breakpoint
ALTER TABLE "partners" ADD COLUMN "funding_limit" bigint DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE "partners" ADD CONSTRAINT "partners_funding_limit" CHECK ("partners"."funding_limit" >= 0);
--> statement-breakpoint
-- Partners that exist already may keep what they deposited (net of reversals) and no more: each new cent needs a
-- top-up that a second admin approves.
UPDATE "partners" p SET "funding_limit" = greatest(0, coalesce((
  SELECT -sum(b.balance) FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
   WHERE a.kind = 'partner_settlement' AND a.owner_id = p.id), 0));
--> statement-breakpoint
ALTER TABLE "partner_api_keys" ADD COLUMN "pending_approval" text;
--> statement-breakpoint
CREATE TABLE "partner_funding_changes" (
	"id" text PRIMARY KEY NOT NULL,
	"partner_id" text NOT NULL,
	"kind" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text DEFAULT 'SZL' NOT NULL,
	"bank_reference" text,
	"note" text,
	"status" text NOT NULL,
	"approval_id" text,
	"requested_by" text,
	"decided_by" text,
	"limit_before" bigint,
	"limit_after" bigint,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	CONSTRAINT "partner_funding_changes_kind" CHECK ("partner_funding_changes"."kind" in ('top_up','decrease')),
	CONSTRAINT "partner_funding_changes_status" CHECK ("partner_funding_changes"."status" in ('pending','applied','rejected','expired')),
	CONSTRAINT "partner_funding_changes_amount" CHECK ("partner_funding_changes"."amount" > 0)
);
--> statement-breakpoint
ALTER TABLE "partner_funding_changes" ADD CONSTRAINT "partner_funding_changes_partner_id_partners_id_fk" FOREIGN KEY ("partner_id") REFERENCES "public"."partners"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
-- One bank transfer tops a partner up once: its reference cannot be pending or applied twice.
CREATE UNIQUE INDEX "partner_funding_changes_reference_idx" ON "partner_funding_changes" USING btree ("partner_id","bank_reference") WHERE "partner_funding_changes"."kind" = 'top_up' and "partner_funding_changes"."status" in ('pending','applied');
--> statement-breakpoint
CREATE INDEX "partner_funding_changes_partner_idx" ON "partner_funding_changes" USING btree ("partner_id","created_at" DESC,"id" DESC);
--> statement-breakpoint
-- payments_commit (drizzle/0010) with the funding check: a payload with "funding" (every movement a partner pays,
-- i.e. deposits) names the partner and its settlement account; once the journal is written, the account's balance
-- may not be below -funding_limit. KL012 otherwise (422 LIMIT_EXCEEDED), and the whole statement rolls back.
CREATE OR REPLACE FUNCTION payments_commit(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  lim jsonb;
  v_name text;
  v_after bigint;
  v_limit bigint;
  v_used bigint;
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

  IF p ? 'funding' THEN
    -- The settlement account's balance after this journal, every shard summed (accounts opened before 0012 have
    -- many; later ones one): what the partner has deposited net of reversals, this deposit included.
    SELECT pt.funding_limit,
           -(SELECT coalesce(sum(b.balance), 0) FROM ledger_balances b WHERE b.account_id = p -> 'funding' ->> 'account')
      INTO v_limit, v_used
      FROM partners pt WHERE pt.id = p -> 'funding' ->> 'partner';
    IF v_limit IS NULL OR v_used > v_limit THEN
      RAISE EXCEPTION 'partner funding limit' USING ERRCODE = 'KL012';
    END IF;
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
