/**
 * ns-pipelines change events: after each create, edit, inline edit (xedit) or delete of a deployed
 * record type (a void is an edit), POST a thin signed event to the ns-pipelines webhook receiver.
 *
 * Never throws: a failed post must not get in the way of the user's save. Delivery is at least
 * once at best, and the daily redundancy sync repairs whatever is missed. Every post is written
 * to the script execution log (AUDIT when accepted, ERROR otherwise).
 *
 * Script parameters (set on each deployment, or as defaults on the script record):
 *   custscript_nsp_receiver_url  https URL of the receiver
 *   custscript_nsp_secret_id     script id of the API secret (Setup > Company > API Secrets)
 *                                holding the shared HMAC secret, e.g. custsecret_nsp_change_events
 *
 * Governance: one https.post costs 10 units (1,000 per user-event execution); nothing else used
 * here costs any.
 *
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['N/https', 'N/runtime', 'N/log', './ns_pipelines_change_events_lib'], (https, runtime, log, lib) => {
  const PARAM_URL = 'custscript_nsp_receiver_url';
  const PARAM_SECRET_ID = 'custscript_nsp_secret_id';
  const POST_UNITS = 10;
  const TITLE = 'ns-pipelines change event';

  const text = (value) => (value == null ? '' : String(value).trim());

  const describe = (e) => {
    if (e && typeof e === 'object') {
      const name = e.name || e.type || 'Error';
      return `${name}: ${e.message || JSON.stringify(e)}`;
    }
    return String(e);
  };

  const deliver = (context) => {
    const event = lib.eventName(context.type);
    if (!event) {
      log.debug({ title: `${TITLE} ignored`, details: `event type ${context.type}` });
      return;
    }
    // On delete only oldRecord describes the record; otherwise newRecord (an xedit's newRecord
    // carries just the changed fields, but always its type and id).
    const rec = event === 'delete' ? context.oldRecord || context.newRecord : context.newRecord || context.oldRecord;
    const recordType = rec ? text(rec.type).toLowerCase() : '';
    const recordId = rec ? text(rec.id) : '';
    const label = `${recordType || '?'} ${recordId || '?'} ${event}`;
    if (!recordType || !recordId) {
      log.error({ title: `${TITLE} not sent`, details: `${label}: no record type or id on the context` });
      return;
    }

    const script = runtime.getCurrentScript();
    const url = text(script.getParameter({ name: PARAM_URL }));
    const secretId = text(script.getParameter({ name: PARAM_SECRET_ID }));
    const missing = [!url && PARAM_URL, !secretId && PARAM_SECRET_ID].filter(Boolean);
    if (missing.length) {
      log.error({
        title: `${TITLE} not sent: script parameter missing`,
        details: `${label}: set ${missing.join(' and ')} on the script deployment`,
      });
      return;
    }
    if (!/^https:\/\//i.test(url)) {
      log.error({ title: `${TITLE} not sent: receiver URL must be https`, details: `${label}: ${PARAM_URL}=${url}` });
      return;
    }
    const remaining = script.getRemainingUsage();
    if (remaining < POST_UNITS) {
      log.error({
        title: `${TITLE} not sent: governance`,
        details: `${label}: ${remaining} units left, a post needs ${POST_UNITS}`,
      });
      return;
    }

    const now = new Date();
    const changeEvent = lib.buildEvent({ account: runtime.accountId, recordType, recordId, event, now });
    const body = lib.serialize(changeEvent);
    const eventId = changeEvent.event_id;
    const signature = lib.signatureHeader({ body, timestamp: Math.floor(now.getTime() / 1000), secretScriptId: secretId });

    let response;
    try {
      response = https.post({
        url,
        body,
        headers: { 'Content-Type': 'application/json', 'X-NS-Signature': signature },
      });
    } catch (e) {
      log.error({ title: `${TITLE} post failed`, details: `${label} (event ${eventId}): ${describe(e)}` });
      return;
    }
    const code = Number(response && response.code);
    if (code >= 200 && code < 300) {
      log.audit({ title: `${TITLE} posted`, details: `${label} -> ${code} (event ${eventId})` });
    } else {
      const answer = text(response && response.body).slice(0, 300);
      log.error({ title: `${TITLE} refused`, details: `${label} -> HTTP ${code} (event ${eventId}) ${answer}` });
    }
  };

  /** @param {Object} context user event context: type, newRecord, oldRecord, UserEventType */
  const afterSubmit = (context) => {
    try {
      deliver(context);
    } catch (e) {
      // Signing (e.g. API secret missing or not allowed for this script) or anything unexpected.
      try {
        log.error({ title: `${TITLE} not sent`, details: describe(e) });
      } catch (ignored) {
        // nothing left to do
      }
    }
  };

  return { afterSubmit };
});
