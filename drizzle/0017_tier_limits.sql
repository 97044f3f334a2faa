-- KYC-tier limits as audited settings (issue 14): compliance admins change them; KESHLESS_KYC_LIMITS only fills
-- in a tier the table lacks, on first boot (src/payments/tier-limits.ts).
CREATE TABLE "kyc_tier_limits" (
	"tier" smallint PRIMARY KEY NOT NULL,
	"per_transaction" bigint NOT NULL,
	"daily" bigint NOT NULL,
	"monthly" bigint NOT NULL,
	"max_balance" bigint NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kyc_tier_limits_positive" CHECK ("kyc_tier_limits"."per_transaction" > 0 and "kyc_tier_limits"."daily" > 0 and "kyc_tier_limits"."monthly" > 0 and "kyc_tier_limits"."max_balance" > 0)
);
