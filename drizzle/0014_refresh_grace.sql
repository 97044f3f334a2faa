-- Two refreshes racing with one refresh token (an app resuming on two threads, a retried request) must not
-- sign the user out. The exchange keeps the pair it issued, sealed, so the same token presented again within
-- a short grace window gets that same pair; after the window, presenting it is reuse and revokes the family.
ALTER TABLE "refresh_tokens" ADD COLUMN "successor_sealed" text;
