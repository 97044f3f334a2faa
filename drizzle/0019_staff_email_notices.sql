ALTER TABLE "notification_outbox" ALTER COLUMN "to_phone" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD COLUMN "to_email" text;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD COLUMN "subject" text;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD CONSTRAINT "notification_outbox_recipient" CHECK (("notification_outbox"."to_phone" is null) <> ("notification_outbox"."to_email" is null));