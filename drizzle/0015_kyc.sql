-- The drizzle snapshot now also records what 0012–0014 added by hand (partner funding, refresh grace, device
-- credentials); only KYC is new here.

CREATE TABLE "kyc_documents" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"type" text NOT NULL,
	"content_type" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"object_key" text NOT NULL,
	"status" text NOT NULL,
	"submission_id" text,
	"upload_expires_at" timestamp with time zone NOT NULL,
	"uploaded_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "kyc_documents_objectKey_unique" UNIQUE("object_key"),
	CONSTRAINT "kyc_documents_status" CHECK ("kyc_documents"."status" in ('awaiting_upload','uploaded','refused','deleted')),
	CONSTRAINT "kyc_documents_type" CHECK ("kyc_documents"."type" in ('id_front','id_back','passport','selfie','proof_of_address'))
);
--> statement-breakpoint
CREATE TABLE "kyc_submissions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"id_number" text NOT NULL,
	"document_ids" jsonb NOT NULL,
	"status" text NOT NULL,
	"tier_requested" smallint NOT NULL,
	"tier_granted" smallint,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"checks" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"document_name" text,
	"document_date_of_birth" date,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"note" text,
	"reason" text,
	"documents_purged_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "kyc_submissions_status" CHECK ("kyc_submissions"."status" in ('processing','in_review','approved','rejected'))
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "date_of_birth" date;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "kyc_verified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "kyc_documents" ADD CONSTRAINT "kyc_documents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kyc_submissions" ADD CONSTRAINT "kyc_submissions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "kyc_documents_user_idx" ON "kyc_documents" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "kyc_documents_submission_idx" ON "kyc_documents" USING btree ("submission_id");--> statement-breakpoint
CREATE UNIQUE INDEX "kyc_submissions_one_open_idx" ON "kyc_submissions" USING btree ("user_id") WHERE "kyc_submissions"."status" in ('processing','in_review');--> statement-breakpoint
CREATE INDEX "kyc_submissions_queue_idx" ON "kyc_submissions" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "kyc_submissions_user_idx" ON "kyc_submissions" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "kyc_submissions_due_idx" ON "kyc_submissions" USING btree ("next_attempt_at") WHERE "kyc_submissions"."status" = 'processing';