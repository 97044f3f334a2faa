-- A vendor's trusted device is proven by a credential the server issued when the device was verified (shown
-- to the app once), not by the deviceId string the app chooses. Only its SHA-256 is stored. Devices trusted
-- before this have no credential: their vendors verify them once more, with a code, on the next sign-in.
ALTER TABLE "vendor_devices" ADD COLUMN "credential_hash" text;--> statement-breakpoint
CREATE UNIQUE INDEX "vendor_devices_credential_idx" ON "vendor_devices" USING btree ("credential_hash");
