CREATE TABLE "approval_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject_id" text NOT NULL,
	"amount" bigint,
	"currency" text,
	"requested_by_type" text NOT NULL,
	"requested_by_id" text NOT NULL,
	"owner_type" text,
	"owner_id" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"required_approvals" smallint DEFAULT 1 NOT NULL,
	"checkers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"decided_by" text,
	"reason" text,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "approval_requests_status" CHECK ("approval_requests"."status" in ('pending','approved','rejected','expired')),
	CONSTRAINT "approval_requests_required" CHECK ("approval_requests"."required_approvals" between 1 and 3)
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"summary" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text,
	"request_id" text,
	CONSTRAINT "job_runs_status" CHECK ("job_runs"."status" in ('running','succeeded','failed','abandoned'))
);
--> statement-breakpoint
CREATE TABLE "withdrawals" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_type" text NOT NULL,
	"owner_id" text NOT NULL,
	"account_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"fee_bearer" text NOT NULL,
	"currency" text NOT NULL,
	"destination" jsonb NOT NULL,
	"status" text NOT NULL,
	"hold_id" text NOT NULL,
	"approval_id" text,
	"clearing_account" text NOT NULL,
	"fee_account" text,
	"limit_charges" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "withdrawals_status" CHECK ("withdrawals"."status" in ('pending','completed','rejected','expired')),
	CONSTRAINT "withdrawals_amount_positive" CHECK ("withdrawals"."amount" > 0)
);
--> statement-breakpoint
CREATE TABLE "card_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"account_id" text NOT NULL,
	"transaction_id" text,
	"hold_id" text,
	"approval_id" text,
	"fee" bigint NOT NULL,
	"currency" text NOT NULL,
	"name_on_card" text,
	"delivery_address" text,
	"status" text NOT NULL,
	"fee_account" text,
	"limit_charges" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "card_requests_status" CHECK ("card_requests"."status" in ('pending','approved','rejected','expired'))
);
--> statement-breakpoint
CREATE TABLE "airtime_attempts" (
	"client_reference" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"attempt" smallint NOT NULL,
	"status" text NOT NULL,
	"result_code" integer,
	"result_description" text,
	"ers_reference" text,
	"checks" smallint DEFAULT 0 NOT NULL,
	"sent_at" timestamp with time zone,
	"responded_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "airtime_attempts_status" CHECK ("airtime_attempts"."status" in ('queued','sending','succeeded','rejected','unknown','not_found'))
);
--> statement-breakpoint
CREATE TABLE "airtime_orders" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"account_id" text NOT NULL,
	"msisdn" text NOT NULL,
	"operator" text NOT NULL,
	"amount" bigint NOT NULL,
	"fee" bigint NOT NULL,
	"fee_bearer" text NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	"hold_id" text NOT NULL,
	"clearing_account" text NOT NULL,
	"fee_account" text,
	"limit_charges" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"attempts" smallint DEFAULT 0 NOT NULL,
	"next_check_at" timestamp with time zone,
	"ers_reference" text,
	"result_code" integer,
	"result_description" text,
	"alerted" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "airtime_orders_status" CHECK ("airtime_orders"."status" in ('pending','completed','failed')),
	CONSTRAINT "airtime_orders_operator" CHECK ("airtime_orders"."operator" in ('mtn','eswatini_mobile'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "approval_requests_open_subject_idx" ON "approval_requests" USING btree ("kind","subject_id") WHERE "approval_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "approval_requests_created_idx" ON "approval_requests" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "approval_requests_status_created_idx" ON "approval_requests" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "approval_requests_due_idx" ON "approval_requests" USING btree ("expires_at") WHERE "approval_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "approval_requests_subject_idx" ON "approval_requests" USING btree ("subject_id");--> statement-breakpoint
CREATE INDEX "approval_requests_owner_idx" ON "approval_requests" USING btree ("owner_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_runs_name_started_idx" ON "job_runs" USING btree ("name","started_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_runs_started_idx" ON "job_runs" USING btree ("started_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "job_runs_one_running_idx" ON "job_runs" USING btree ("name") WHERE "job_runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "withdrawals_owner_idx" ON "withdrawals" USING btree ("owner_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "withdrawals_status_idx" ON "withdrawals" USING btree ("status","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "card_requests_one_pending_idx" ON "card_requests" USING btree ("user_id") WHERE "card_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "card_requests_user_idx" ON "card_requests" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "airtime_attempts_order_idx" ON "airtime_attempts" USING btree ("order_id","attempt");--> statement-breakpoint
CREATE INDEX "airtime_orders_due_idx" ON "airtime_orders" USING btree ("next_check_at") WHERE "airtime_orders"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "airtime_orders_user_idx" ON "airtime_orders" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "airtime_orders_created_idx" ON "airtime_orders" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);