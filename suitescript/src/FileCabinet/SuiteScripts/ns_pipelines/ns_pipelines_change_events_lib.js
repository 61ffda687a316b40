/**
 * ns-pipelines change events: the pure parts (event body, serialization, signature).
 *
 * Kept apart from the user-event entry point so that the entry script exports nothing but
 * afterSubmit, and so that these helpers can be tested outside NetSuite (suitescript/test/).
 *
 * Event contract (behaviour.md section 3; the sandbox's notifications.py sends the same):
 *   body   {"event_id","account","record_type","record_id","event","occurred_at"}   (compact JSON)
 *   header X-NS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['N/crypto', 'N/encode', 'N/crypto/random'], (crypto, encode, random) => {
  /**
   * context.type (a context.UserEventType value, lower case) -> contract event name.
   * A void arrives as an edit. APPROVE/REJECT/CANCEL change the record (status, approval) and are
   * sent as edits so the receiver re-reads it. Every other type (view, copy, print, email,
   * paybills, ...) is ignored: the daily redundancy sync catches anything missed.
   */
  const EVENTS = Object.freeze({
    create: 'create',
    edit: 'edit',
    xedit: 'xedit',
    delete: 'delete',
    approve: 'edit',
    reject: 'edit',
    cancel: 'edit',
  });

  const eventName = (type) => {
    const key = String(type == null ? '' : type).toLowerCase();
    return Object.prototype.hasOwnProperty.call(EVENTS, key) ? EVENTS[key] : null;
  };

  /** ISO 8601 UTC to the second, like the sandbox: 2024-06-01T12:00:00Z */
  const isoSeconds = (date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

  /** A v4 UUID: N/crypto/random.generateUUID (2023.1+); a Math.random fallback otherwise. */
  const uuid = () => {
    if (random && typeof random.generateUUID === 'function') {
      return String(random.generateUUID()).toLowerCase();
    }
    // Only an idempotency key for the receiver's inbox, not a secret.
    return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
      const r = Math.floor(Math.random() * 16);
      return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
    });
  };

  /**
   * The event body, keys in contract order.
   * @param {{account: string, recordType: string, recordId: (string|number), event: string,
   *          now?: Date, eventId?: string}} options
   */
  const buildEvent = (options) => ({
    event_id: options.eventId || uuid(),
    account: String(options.account),
    record_type: String(options.recordType).toLowerCase(),
    record_id: String(options.recordId),
    event: options.event,
    occurred_at: isoSeconds(options.now || new Date()),
  });

  /**
   * Compact JSON with non-ASCII escaped as \uXXXX (what Python's json.dumps(..., separators=(",", ":"))
   * produces), so the bytes sent, and therefore signed, do not depend on how the body is encoded.
   */
  const serialize = (event) =>
    JSON.stringify(event).replace(/[\u0080-\uffff]/g, (c) => `\\u${`0000${c.charCodeAt(0).toString(16)}`.slice(-4)}`);

  /**
   * The X-NS-Signature header value: t=<t>,v1=<hex HMAC-SHA256("<t>.<body>")>, keyed by the API
   * secret whose script id is given (Setup > Company > API Secrets; the value never reaches the script).
   * @param {{body: string, timestamp: number, secretScriptId: string}} options timestamp in unix seconds
   */
  const signatureHeader = (options) => {
    const t = Math.floor(Number(options.timestamp));
    const key = crypto.createSecretKey({ secret: options.secretScriptId, encoding: encode.Encoding.UTF_8 });
    const hmac = crypto.createHmac({ algorithm: crypto.HashAlg.SHA256, key });
    hmac.update({ input: `${t}.${options.body}`, inputEncoding: encode.Encoding.UTF_8 });
    // Lower case whatever case NetSuite's HEX output uses: the receiver compares hex strings.
    const digest = String(hmac.digest({ outputEncoding: encode.Encoding.HEX })).toLowerCase();
    return `t=${t},v1=${digest}`;
  };

  return { EVENTS, eventName, isoSeconds, uuid, buildEvent, serialize, signatureHeader };
});
