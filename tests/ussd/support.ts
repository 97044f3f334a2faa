import { expect } from "bun:test";
import { createGatewayClient, type GatewayFormat, type SimScreen } from "../../src/ussd/sim";
import { isGsm7, MAX_SCREEN } from "../../src/ussd/text";
import type { TestContext } from "../support/harness";

/** Every screen any session test sees, checked against the limits as it arrives. */
export const seen: SimScreen[] = [];

/**
 * The test clock: deps.now() runs `offset` ms ahead of real time. A subscriber takes a couple of
 * seconds to read a screen and answer, so every answer moves it on — which is also what tells an
 * MTN subscriber's repeated input from the gateway resending a request.
 */
export const clock = { offset: 0 };
export const useClock = (t: TestContext) => {
  t.deps.now = () => new Date(Date.now() + clock.offset);
};
const THINK_MS = 2_000;

/** A subscriber on `phone` reaching the app through `format`'s gateway wire format. */
export function dialer(t: TestContext, format: GatewayFormat, phone: string, secret?: string) {
  const client = createGatewayClient({
    format,
    phone,
    secret,
    fetch: async (path, init) => t.app.request(path, init),
  });
  const check = (screen: SimScreen) => {
    seen.push(screen);
    if (screen.status === 200) {
      expect(screen.text.length).toBeLessThanOrEqual(MAX_SCREEN);
      expect(isGsm7(screen.text)).toBe(true);
    }
    return screen;
  };
  return {
    ...client,
    dial: async () => check(await client.dial()),
    send: async (input: string) => {
      clock.offset += THINK_MS;
      return check(await client.send(input));
    },
    resend: async () => check(await client.resend()),
    abort: () => client.abort(),
    /** Dial and, when this phone has never chosen a language, choose English. */
    home: async () => {
      let screen = check(await client.dial());
      if (screen.text.startsWith("Choose language")) {
        clock.offset += THINK_MS;
        screen = check(await client.send("1"));
      }
      return screen;
    },
    /** Sends each input in turn; returns the last screen. */
    play: async (...inputs: string[]) => {
      let screen: SimScreen | undefined;
      for (const input of inputs) {
        clock.offset += THINK_MS;
        screen = check(await client.send(input));
      }
      return screen!;
    },
  };
}

export type Dialer = ReturnType<typeof dialer>;
