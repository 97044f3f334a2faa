import { and, desc, eq, isNull } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import { newId } from "../lib/ids";
import { authSessions, vendorDevices } from "./schema";
import { deferred, type IdentityDeps, transact } from "./tx";
import { deviceCredentialHash } from "./vendor-credentials";

/** A vendor's trusted devices: found by their credential at sign-in, trusted after a code, listed, revoked. */

export interface VendorDevice {
  id: string;
  deviceId: string;
  trustedAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

const toDevice = (d: typeof vendorDevices.$inferSelect): VendorDevice => ({
  id: d.id,
  deviceId: d.deviceId,
  trustedAt: d.trustedAt.toISOString(),
  lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
  revokedAt: d.revokedAt?.toISOString() ?? null,
});

/**
 * Trusted means: `credential` is one we issued to this vendor's device and nobody revoked. Any other
 * value — an install id the app chose, one an attacker guessed — finds nothing.
 */
export async function trustedDevice(db: Executor, vendorId: string, credential: string) {
  const [device] = await db
    .select()
    .from(vendorDevices)
    .where(
      and(
        eq(vendorDevices.vendorId, vendorId),
        eq(vendorDevices.credentialHash, deviceCredentialHash(credential)),
        isNull(vendorDevices.revokedAt),
      ),
    );
  return device;
}

/** Verifying a device name again issues a new credential and retires the old one (and any revocation). */
export async function trustDevice(
  tx: Executor,
  device: { vendorId: string; deviceId: string; credentialHash: string; now: Date },
): Promise<void> {
  const { credentialHash, now } = device;
  await tx
    .insert(vendorDevices)
    .values({
      id: newId("dev"),
      vendorId: device.vendorId,
      deviceId: device.deviceId,
      credentialHash,
      trustedAt: now,
      lastSeenAt: now,
    })
    .onConflictDoUpdate({
      target: [vendorDevices.vendorId, vendorDevices.deviceId],
      set: { credentialHash, trustedAt: now, lastSeenAt: now, revokedAt: null, revokedBy: null },
    });
}

export async function listDevices(deps: Pick<IdentityDeps, "database">, vendorId: string): Promise<VendorDevice[]> {
  const rows = await deps.database.db
    .select()
    .from(vendorDevices)
    .where(eq(vendorDevices.vendorId, vendorId))
    .orderBy(desc(vendorDevices.trustedAt));
  return rows.map(toDevice);
}

/** Untrusts a device and ends every session opened from it. By the vendor or an admin. */
export async function revokeDevice(
  deps: Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "audit">,
  { ctx, input }: { ctx: RequestMeta; input: { vendorId: string; id: string } },
) {
  await transact(
    deps,
    async (tx) => {
      const [d] = await tx
        .select()
        .from(vendorDevices)
        .where(and(eq(vendorDevices.id, input.id), eq(vendorDevices.vendorId, input.vendorId)));
      if (!d) return deferred(new AppError("NOT_FOUND", "No such device."));
      if (d.revokedAt) return;
      const now = deps.now();
      await tx
        .update(vendorDevices)
        .set({ revokedAt: now, revokedBy: ctx.actor?.id ?? null })
        .where(eq(vendorDevices.id, d.id));
      await tx
        .update(authSessions)
        .set({ revokedAt: now, revokedReason: "device_revoked" })
        .where(
          and(
            eq(authSessions.principalType, "vendor"),
            eq(authSessions.principalId, input.vendorId),
            eq(authSessions.deviceId, d.deviceId),
            isNull(authSessions.revokedAt),
          ),
        );
      await deps.audit.record(
        {
          action: "vendor.device.revoke",
          target: { type: "vendor", id: input.vendorId },
          details: { device: d.id, deviceId: d.deviceId },
        },
        ctx,
        tx,
      );
    },
    undefined,
    "vendors.revokeDevice",
  );
}
