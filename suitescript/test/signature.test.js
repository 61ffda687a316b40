'use strict';
// The pure helpers of ns_pipelines_change_events_lib.js: signature, serialization, event body.
const test = require('node:test');
const assert = require('node:assert/strict');
const { fakeNetSuite, verifySignature, SECRET_SCRIPT_ID, SECRET_VALUE } = require('../test_support/netsuite');

// Vectors computed once with the sandbox's sender (ns_pipelines/sandbox/netsuite/notifications.py):
//   .venv/bin/python -c "from ns_pipelines.sandbox.netsuite.notifications import sign; \
//       print(sign(BODY, 'whsec_ns_pipelines_test', 1717243200))"
//   .venv/bin/python -c "from ns_pipelines.sandbox.netsuite.notifications import sign; \
//       print(sign('{\"note\":\"café\"}', 'sécret', 1717243200))"
const PY_BODY =
  '{"event_id":"7d444840-9dc0-11d1-b245-5ffdce74fad2","account":"1234567_SB1","record_type":"customerpayment",' +
  '"record_id":"2001","event":"edit","occurred_at":"2024-06-01T12:00:00Z"}';
const PY_HEADER = 't=1717243200,v1=f80b200ccca22901ab1510bd1e6872018baeb701a565337fbc24d5c62d1f19e4';
const PY_UTF8_BODY = '{"note":"café"}';
const PY_UTF8_SECRET = 'sécret';
const PY_UTF8_HEADER = 't=1717243200,v1=6646cb45e929cab8b44de4eee01b467bd5d6effd4697635348889d6c9d0c002c';
// Python: json.dumps({"note": "café € 😀 \"q\" \\ /\n"}, separators=(",", ":"))
const PY_ESCAPED_JSON = '{"note":"caf\\u00e9 \\u20ac \\ud83d\\ude00 \\"q\\" \\\\ /\\n"}';

test('signatureHeader matches the Python sandbox sign() vector', () => {
  const ns = fakeNetSuite();
  const lib = ns.loadLib();
  assert.equal(lib.signatureHeader({ body: PY_BODY, timestamp: 1717243200, secretScriptId: SECRET_SCRIPT_ID }), PY_HEADER);
  assert.equal(SECRET_VALUE, 'whsec_ns_pipelines_test');
});

test('signatureHeader matches the Python vector for a non-ASCII body and secret (UTF-8 both sides)', () => {
  const ns = fakeNetSuite({ secrets: { custsecret_utf8: PY_UTF8_SECRET } });
  const lib = ns.loadLib();
  assert.equal(lib.signatureHeader({ body: PY_UTF8_BODY, timestamp: 1717243200, secretScriptId: 'custsecret_utf8' }),
    PY_UTF8_HEADER);
});

test('signatureHeader keys the HMAC with the API secret script id, UTF-8, never a guid', () => {
  const ns = fakeNetSuite();
  const lib = ns.loadLib();
  lib.signatureHeader({ body: '{}', timestamp: 1717243200, secretScriptId: SECRET_SCRIPT_ID });
  assert.deepEqual(ns.calls.secretKeys, [{ secret: SECRET_SCRIPT_ID, encoding: 'UTF_8' }]);
});

test('signatureHeader truncates t to whole seconds and lower-cases an upper-case HEX digest', () => {
  const ns = fakeNetSuite({ upperCaseHex: true });
  const lib = ns.loadLib();
  assert.equal(lib.signatureHeader({ body: PY_BODY, timestamp: 1717243200.9, secretScriptId: SECRET_SCRIPT_ID }), PY_HEADER);
});

test('signatureHeader output verifies with node:crypto', () => {
  const ns = fakeNetSuite();
  const lib = ns.loadLib();
  const body = '{"a":1}';
  const header = lib.signatureHeader({ body, timestamp: 1700000000, secretScriptId: SECRET_SCRIPT_ID });
  assert.deepEqual(verifySignature(header, body), { ok: true, t: 1700000000 });
  assert.equal(verifySignature(header, '{"a":2}').ok, false);
});

test('serialize is compact JSON with non-ASCII escaped exactly as Python json.dumps', () => {
  const lib = fakeNetSuite().loadLib();
  assert.equal(lib.serialize({ note: 'café € 😀 "q" \\ /\n' }), PY_ESCAPED_JSON);
});

test('buildEvent + serialize reproduce the sandbox body byte for byte', () => {
  const lib = fakeNetSuite().loadLib();
  const event = lib.buildEvent({
    eventId: '7d444840-9dc0-11d1-b245-5ffdce74fad2',
    account: '1234567_SB1',
    recordType: 'CustomerPayment',
    recordId: 2001,
    event: 'edit',
    now: new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 999)),
  });
  assert.equal(lib.serialize(event), PY_BODY);
});

test('buildEvent draws a fresh v4 event id each time', () => {
  const lib = fakeNetSuite().loadLib();
  const args = { account: 'A', recordType: 'invoice', recordId: '1', event: 'create' };
  const a = lib.buildEvent(args).event_id;
  const b = lib.buildEvent(args).event_id;
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
});

test('uuid falls back to a v4 UUID when N/crypto/random has no generateUUID', () => {
  const lib = fakeNetSuite({ withoutGenerateUUID: true }).loadLib();
  const ids = new Set();
  for (let i = 0; i < 200; i += 1) {
    const id = lib.uuid();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.add(id);
  }
  assert.equal(ids.size, 200);
});

test('eventName: create/edit/xedit/delete as is, approve/reject/cancel as edit, the rest ignored', () => {
  const lib = fakeNetSuite().loadLib();
  const expected = {
    create: 'create', edit: 'edit', xedit: 'xedit', delete: 'delete', approve: 'edit', reject: 'edit', cancel: 'edit',
    CREATE: 'create', view: null, copy: null, print: null, email: null, paybills: null, markcomplete: null,
    transform: null, quickview: null, '': null, undefined: null, hasOwnProperty: null, __proto__: null,
  };
  for (const [type, name] of Object.entries(expected)) {
    assert.equal(lib.eventName(type === 'undefined' ? undefined : type), name, `type ${type}`);
  }
});

test('isoSeconds is ISO 8601 UTC without fractions', () => {
  const lib = fakeNetSuite().loadLib();
  assert.equal(lib.isoSeconds(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '2024-01-02T03:04:05Z');
});
