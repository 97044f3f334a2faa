CREATE TABLE "aml_alert_evidence" (
	"alert_id" text NOT NULL,
	"kind" text NOT NULL,
	"ref_id" text NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	CONSTRAINT "aml_alert_evidence_alert_id_kind_ref_id_pk" PRIMARY KEY("alert_id","kind","ref_id"),
	CONSTRAINT "aml_alert_evidence_kind" CHECK ("aml_alert_evidence"."kind" in ('transaction','sanctions_match'))
);
--> statement-breakpoint
CREATE TABLE "aml_alerts" (
	"id" text PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"rule_type" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"subject_name" text,
	"status" text DEFAULT 'open' NOT NULL,
	"outcome" text,
	"note" text,
	"priority" smallint NOT NULL,
	"hits" integer DEFAULT 1 NOT NULL,
	"escalation_level" smallint DEFAULT 0 NOT NULL,
	"assignee_role" text NOT NULL,
	"assignee" text,
	"next_escalation_at" timestamp with time zone,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_hit_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "aml_alerts_status" CHECK ("aml_alerts"."status" in ('open','investigating','closed')),
	CONSTRAINT "aml_alerts_outcome" CHECK (("aml_alerts"."status" = 'closed') = ("aml_alerts"."outcome" is not null) and ("aml_alerts"."outcome" is null or "aml_alerts"."outcome" in ('false_positive','valuable','confirmed_risk'))),
	CONSTRAINT "aml_alerts_subject_type" CHECK ("aml_alerts"."subject_type" in ('user','vendor'))
);
--> statement-breakpoint
CREATE TABLE "aml_monitor_pending" (
	"transaction_id" text PRIMARY KEY NOT NULL,
	"parked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aml_monitor_state" (
	"id" text PRIMARY KEY NOT NULL,
	"cursor_at" timestamp with time zone NOT NULL,
	"cursor_id" text NOT NULL,
	"evaluated" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aml_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"priority" smallint NOT NULL,
	"params" jsonb NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "aml_rules_priority" CHECK ("aml_rules"."priority" between 1 and 10)
);
--> statement-breakpoint
ALTER TABLE "aml_alert_evidence" ADD CONSTRAINT "aml_alert_evidence_alert_id_aml_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."aml_alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "aml_alerts_one_open_idx" ON "aml_alerts" USING btree ("rule_id","subject_type","subject_id") WHERE "aml_alerts"."status" <> 'closed';--> statement-breakpoint
CREATE INDEX "aml_alerts_created_idx" ON "aml_alerts" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "aml_alerts_status_created_idx" ON "aml_alerts" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "aml_alerts_subject_idx" ON "aml_alerts" USING btree ("subject_id");--> statement-breakpoint
CREATE INDEX "aml_alerts_due_idx" ON "aml_alerts" USING btree ("next_escalation_at") WHERE "aml_alerts"."status" <> 'closed';--> statement-breakpoint
CREATE INDEX "aml_alerts_closed_idx" ON "aml_alerts" USING btree ("closed_at") WHERE "aml_alerts"."outcome" = 'confirmed_risk';