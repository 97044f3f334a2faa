/**
 * What every gateway adapter produces and consumes. A new gateway format is one adapter file that
 * maps its request to a UssdEvent and a UssdReply back to its response; the menu engine knows nothing
 * of wire formats.
 */
export interface UssdEvent {
  /** Which adapter: part of the session key and of idempotency scopes. */
  gateway: string;
  sessionId: string;
  /** E.164, or null when the caller's number is not an Eswatini mobile. */
  phone: string | null;
  /** The latest input only ("" when the session begins). */
  input: string;
  /** The subscriber just dialled: start a session. */
  isNew: boolean;
  /** The gateway closed the session (end, abort, timeout): forget it. */
  ended: boolean;
  /**
   * The request as the gateway identifies it, used only to recognise a retry. Africa's Talking sends
   * every input so far, so an equal `raw` is the same hop resent (`exact`); MTN sends the latest input
   * only, so an equal `raw` is a retry only when it comes back quickly (config.ussd.retryWindowMs).
   */
  raw: string;
  exact: boolean;
}

export interface UssdReply {
  text: string;
  /** true: the session ends with this screen (END); false: the subscriber answers it (CON). */
  end: boolean;
}
