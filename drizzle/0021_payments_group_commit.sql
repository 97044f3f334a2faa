-- Group commit (issue 17): concurrent fast-lane movements written by ONE statement in one transaction
-- (src/db/group-commit.ts gathers them; src/payments/commit.ts sends them), so a commit, a snapshot, a round
-- trip and a function call are shared by a batch instead of paid by each payment.
--
-- Each item runs payments_execute in its own subtransaction (BEGIN … EXCEPTION), so a refusal that belongs to
-- one item — insufficient funds, a limit, a stale assumption, a key already answered — undoes that item alone
-- and is answered as {"error": {code, message, constraint}}, which the caller turns back into the error the
-- item would have raised alone. A serialization failure, a deadlock or a server short of memory is not an
-- item's: it aborts the batch, which the caller retries (or splits). Nothing is answered before the batch commits: the statement returns
-- only then (autocommit). Items are answered in the order given.
CREATE FUNCTION payments_execute_batch(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  item jsonb;
  v_out jsonb := '[]'::jsonb;
  v_state text;
  v_message text;
  v_constraint text;
BEGIN
  FOR item IN SELECT x FROM jsonb_array_elements(p) WITH ORDINALITY AS e(x, ord) ORDER BY ord LOOP
    BEGIN
      v_out := v_out || jsonb_build_array(jsonb_build_object('ok', payments_execute(item)));
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_constraint = CONSTRAINT_NAME;
      -- Not the item's: a conflict (class 40), the server short of a resource such as predicate-lock memory
      -- (53), an operator or crash (57, 58), a connection (08) or an internal error (XX) aborts the batch.
      IF left(v_state, 2) IN ('40', '53', '57', '58', '08', 'XX') THEN
        RAISE;
      END IF;
      v_out := v_out || jsonb_build_array(jsonb_build_object('error', jsonb_build_object(
        'code', v_state, 'message', v_message, 'constraint', nullif(v_constraint, ''))));
    END;
  END LOOP;
  RETURN v_out;
END $$;
