-- Sanctions screening (issue 14): the UN Consolidated List's versions, their entries, the names they are matched by
-- (the candidate index each process loads into its in-memory matcher), and the matches an analyst clears or confirms.
CREATE TABLE "sanctions_entries" (
	"list_id" text NOT NULL,
	"dataid" text NOT NULL,
	"list_type" text NOT NULL,
	"regime" text NOT NULL,
	"reference_number" text NOT NULL,
	"name" text NOT NULL,
	"aliases" jsonb NOT NULL,
	"dobs" jsonb NOT NULL,
	"nationalities" jsonb NOT NULL,
	"listed_on" text,
	"last_updated" text,
	CONSTRAINT "sanctions_entries_list_id_dataid_pk" PRIMARY KEY("list_id","dataid"),
	CONSTRAINT "sanctions_entries_type" CHECK ("sanctions_entries"."list_type" in ('individual','entity'))
);
--> statement-breakpoint
CREATE TABLE "sanctions_lists" (
	"id" text PRIMARY KEY NOT NULL,
	"date_generated" timestamp with time zone NOT NULL,
	"downloaded_at" timestamp with time zone NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	"individuals" integer NOT NULL,
	"entities" integer NOT NULL,
	"added" integer NOT NULL,
	"removed" integer NOT NULL,
	"removed_dataids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"sha256" text NOT NULL,
	"bytes" integer NOT NULL,
	"source_url" text NOT NULL,
	"fetched_url" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sanctions_matches" (
	"id" text PRIMARY KEY NOT NULL,
	"list_id" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"subject_name" text NOT NULL,
	"dataid" text NOT NULL,
	"list_type" text NOT NULL,
	"reference_number" text NOT NULL,
	"listed_name" text NOT NULL,
	"matched_name" text NOT NULL,
	"score" double precision NOT NULL,
	"reasons" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"note" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"froze" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sanctions_matches_status" CHECK ("sanctions_matches"."status" in ('open','cleared','confirmed')),
	CONSTRAINT "sanctions_matches_subject_type" CHECK ("sanctions_matches"."subject_type" in ('user','vendor'))
);
--> statement-breakpoint
CREATE TABLE "sanctions_names" (
	"list_id" text NOT NULL,
	"dataid" text NOT NULL,
	"ordinal" smallint NOT NULL,
	"kind" text NOT NULL,
	"quality" text,
	"name" text NOT NULL,
	"tokens" text[] NOT NULL,
	CONSTRAINT "sanctions_names_list_id_dataid_ordinal_pk" PRIMARY KEY("list_id","dataid","ordinal"),
	CONSTRAINT "sanctions_names_kind" CHECK ("sanctions_names"."kind" in ('primary','alias'))
);
--> statement-breakpoint
ALTER TABLE "sanctions_entries" ADD CONSTRAINT "sanctions_entries_list_id_sanctions_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."sanctions_lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sanctions_names" ADD CONSTRAINT "sanctions_names_list_id_sanctions_lists_id_fk" FOREIGN KEY ("list_id") REFERENCES "public"."sanctions_lists"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sanctions_lists_generated_idx" ON "sanctions_lists" USING btree ("date_generated" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sanctions_matches_subject_entry_idx" ON "sanctions_matches" USING btree ("subject_type","subject_id","dataid","subject_name");--> statement-breakpoint
CREATE INDEX "sanctions_matches_created_idx" ON "sanctions_matches" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sanctions_matches_status_created_idx" ON "sanctions_matches" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sanctions_matches_subject_idx" ON "sanctions_matches" USING btree ("subject_id");