CREATE TABLE "ussd_profiles" (
	"phone" text PRIMARY KEY NOT NULL,
	"language" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ussd_profiles_language_check" CHECK ("ussd_profiles"."language" in ('en', 'ss'))
);
--> statement-breakpoint
CREATE TABLE "ussd_sessions" (
	"gateway" text NOT NULL,
	"session_id" text NOT NULL,
	"nonce" text NOT NULL,
	"phone" text NOT NULL,
	"state" jsonb NOT NULL,
	"hop" integer DEFAULT 0 NOT NULL,
	"last_fingerprint" text,
	"last_reply" text NOT NULL,
	"ended" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ussd_sessions_gateway_session_id_pk" PRIMARY KEY("gateway","session_id")
);
--> statement-breakpoint
CREATE INDEX "ussd_sessions_expires_idx" ON "ussd_sessions" USING btree ("expires_at");