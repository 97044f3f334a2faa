CREATE TABLE "reports" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"date" date NOT NULL,
	"generated_at" timestamp with time zone NOT NULL,
	"summary" jsonb NOT NULL,
	"body" jsonb NOT NULL,
	"csv_object" text NOT NULL,
	CONSTRAINT "reports_type" CHECK ("reports"."type" in ('financial','operational','compliance'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "reports_type_date_idx" ON "reports" USING btree ("type","date");--> statement-breakpoint
CREATE INDEX "reports_date_idx" ON "reports" USING btree ("date" DESC NULLS LAST,"type");