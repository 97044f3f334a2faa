-- The hold functions find a hold by its id through the primary key even while ledger_holds is small. Under
-- SERIALIZABLE a sequential scan locks the whole relation for reading (a relation-wide SIREAD lock), and the
-- planner scans a table of a few pages sequentially: on a young system every withdrawal and airtime purchase then
-- conflicted with every other one's new hold, and under a day's mix they were aborted as pivots until their
-- retries ran out (bench/RESULTS.md, issue 17: 20 and 39 requests answered 503 in two of six 12 s runs; at most one
-- in three runs with this). PostgreSQL's documentation gives the same advice for SERIALIZABLE: prefer index scans.
ALTER FUNCTION ledger_hold(jsonb) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION ledger_release_hold(text) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION ledger_post_hold(jsonb) SET enable_seqscan = off;
--> statement-breakpoint
ALTER FUNCTION ledger_void_hold(text, text) SET enable_seqscan = off;
