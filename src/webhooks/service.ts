import { type WebhookContext, type WebhookDeps, webhookContext } from "./context";
import { getDelivery, listDeliveries, redeliver, sendTest } from "./deliveries";
import { deliveryLoop, drain, enqueue } from "./delivery";
import { createEndpoint, deleteEndpoint, listEndpoints, rotateSecret, updateEndpoint } from "./endpoints";

/**
 * Partner webhooks: endpoints (endpoints.ts), events queued in the caller's transaction and a delivery worker
 * (delivery.ts), and the delivery log (deliveries.ts). Delivery is at least once: a crash after the partner
 * answered but before we recorded it sends the event again — with the same `id` (and `Keshless-Event-Id`),
 * so the receiver drops it.
 */

export type { WebhookAttempt, WebhookDelivery } from "./deliveries";
export type { DrainResult, WebhookEventInput, WebhookEventType } from "./delivery";
export type { WebhookEndpoint } from "./endpoints";

export function createWebhooks(deps: WebhookDeps) {
  const c = webhookContext(deps);
  const loop = deliveryLoop(c);
  const bound =
    <A extends unknown[], R>(fn: (c: WebhookContext, ...args: A) => R) =>
    (...args: A) =>
      fn(c, ...args);
  return {
    enqueue: bound(enqueue),
    drain: bound(drain),
    start: loop.start,
    stop: loop.stop,
    kick: loop.kick,
    listEndpoints: bound(listEndpoints),
    createEndpoint: bound(createEndpoint),
    updateEndpoint: bound(updateEndpoint),
    deleteEndpoint: bound(deleteEndpoint),
    rotateSecret: bound(rotateSecret),
    sendTest: bound(sendTest),
    redeliver: (args: Parameters<typeof redeliver>[2]) => redeliver(c, loop.kick, args),
    listDeliveries: bound(listDeliveries),
    getDelivery: bound(getDelivery),
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;
