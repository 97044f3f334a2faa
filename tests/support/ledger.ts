import type { Ledger } from "../../src/ledger/service";
import { newId } from "../../src/lib/ids";

/** A guarded user wallet straight on the ledger (no identity), `shards` balance rows. */
export function openWallet(ledger: Ledger, shards = 1) {
  return ledger.openAccount({
    kind: "user_wallet",
    ownerType: "user",
    ownerId: newId("usr"),
    currency: "SZL",
    guarded: true,
    shards,
  });
}

/** A wallet funded from a partner settlement account (which may go negative: it is owed by the partner). */
export async function fundedWallet(ledger: Ledger, amount: bigint, shards = 1) {
  const account = await openWallet(ledger, shards);
  if (amount > 0n) {
    const settlement = await ledger.systemAccount("partner_settlement", "SZL", "prt_test");
    await ledger.transfer({
      id: newId("txn"),
      kind: "deposit",
      legs: [
        { accountId: settlement.id, amount: -amount },
        { accountId: account.id, amount },
      ],
    });
  }
  return account;
}
