'use strict';
// afterSubmit of ns_pipelines_change_events.js against stand-ins for the N/ modules.
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  ACCOUNT_ID, DEFAULT_NOW_MS, RECEIVER_URL, fakeNetSuite, ueContext, verifySignature,
} = require('../test_support/netsuite');

const NOW_S = Math.floor(DEFAULT_NOW_MS / 1000);
const NOW_ISO = '2024-06-01T12:00:00Z';
const RECORD_TYPES = ['customer', 'invoice', 'customerpayment', 'creditmemo', 'customerrefund', 'deposit', 'journalentry'];
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function run(context, options) {
  const ns = fakeNetSuite(options);
  const script = ns.loadEntry();
  assert.doesNotThrow(() => script.afterSubmit(context));
  return ns;
}

function assertNoPost(ns) {
  assert.equal(ns.calls.posts.length, 0);
  assert.equal(ns.logsAt('audit').length, 0);
}

test('the entry script exports afterSubmit only', () => {
  const script = fakeNetSuite().loadEntry();
  assert.deepEqual(Object.keys(script), ['afterSubmit']);
});

for (const type of ['create', 'edit', 'xedit', 'delete']) {
  test(`${type}: one signed post with the contract body, logged at AUDIT`, () => {
    const rec = { type: 'customerpayment', id: 2001 };
    const ctx = type === 'delete' ? ueContext(type, { oldRecord: rec }) : ueContext(type, { newRecord: rec });
    const ns = run(ctx);

    assert.equal(ns.calls.posts.length, 1);
    const post = ns.calls.posts[0];
    assert.equal(post.url, RECEIVER_URL);
    assert.deepEqual(Object.keys(post.headers).sort(), ['Content-Type', 'X-NS-Signature']);
    assert.equal(post.headers['Content-Type'], 'application/json');
    assert.equal(typeof post.body, 'string');

    const body = JSON.parse(post.body);
    assert.deepEqual(Object.keys(body), ['event_id', 'account', 'record_type', 'record_id', 'event', 'occurred_at']);
    assert.match(body.event_id, UUID_V4);
    assert.deepEqual({ ...body, event_id: '-' }, {
      event_id: '-',
      account: ACCOUNT_ID,
      record_type: 'customerpayment',
      record_id: '2001',
      event: type,
      occurred_at: NOW_ISO,
    });
    assert.equal(post.body, JSON.stringify(body), 'compact JSON');

    assert.deepEqual(verifySignature(post.headers['X-NS-Signature'], post.body), { ok: true, t: NOW_S });

    const audits = ns.logsAt('audit');
    assert.equal(audits.length, 1);
    assert.match(audits[0].details, new RegExp(`^customerpayment 2001 ${type} -> 202 \\(event ${body.event_id}\\)$`));
    assert.equal(ns.logsAt('error').length, 0);
  });
}

test('a void (an edit in NetSuite) and an approval are both sent as edits', () => {
  for (const type of ['edit', 'approve', 'reject']) {
    const ns = run(ueContext(type, { newRecord: { type: 'journalentry', id: '77' } }));
    assert.equal(ns.calls.posts.length, 1, type);
    assert.equal(JSON.parse(ns.calls.posts[0].body).event, 'edit', type);
  }
});

test('every deployed record type is reported under its own lower-case type', () => {
  for (const recordType of RECORD_TYPES) {
    const ns = run(ueContext('create', { newRecord: { type: recordType.toUpperCase(), id: 5 } }));
    const body = JSON.parse(ns.calls.posts[0].body);
    assert.equal(body.record_type, recordType);
    assert.equal(body.record_id, '5');
  }
});

test('delete reads the record from oldRecord', () => {
  const ns = run(ueContext('delete', {
    oldRecord: { type: 'invoice', id: 314 },
    newRecord: { type: 'invoice', id: 999 },
  }));
  const body = JSON.parse(ns.calls.posts[0].body);
  assert.equal(body.record_id, '314');
  assert.equal(body.event, 'delete');
});

test('xedit uses newRecord even though it carries only the changed fields', () => {
  const ns = run(ueContext('xedit', { newRecord: { type: 'customer', id: '42' }, oldRecord: { type: 'customer', id: '42' } }));
  assert.equal(JSON.parse(ns.calls.posts[0].body).event, 'xedit');
});

test('each post carries a new event id', () => {
  const ns = fakeNetSuite();
  const script = ns.loadEntry();
  script.afterSubmit(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }));
  script.afterSubmit(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }));
  const [a, b] = ns.calls.posts.map((p) => JSON.parse(p.body).event_id);
  assert.notEqual(a, b);
});

test('other event types are ignored without a post or an error', () => {
  for (const type of ['view', 'copy', 'print', 'email', 'paybills', 'markcomplete', 'transform', 'quickview', '', undefined]) {
    const ns = run(ueContext(type, { newRecord: { type: 'invoice', id: 1 } }));
    assertNoPost(ns);
    assert.equal(ns.logsAt('error').length, 0, String(type));
  }
});

test('https.post throwing (e.g. SSS_REQUEST_TIME_EXCEEDED) is logged as an error, not thrown', () => {
  const err = new Error('The host you are trying to connect to is not responding');
  err.name = 'SSS_REQUEST_TIME_EXCEEDED';
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 9 } }), { postError: err });
  assert.equal(ns.calls.posts.length, 1);
  assert.equal(ns.logsAt('audit').length, 0);
  const errors = ns.logsAt('error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].title, /post failed/);
  assert.match(errors[0].details, /^invoice 9 edit \(event [0-9a-f-]{36}\): SSS_REQUEST_TIME_EXCEEDED: /);
});

test('a 500 answer is logged as an error with the status, not thrown', () => {
  const ns = run(ueContext('create', { newRecord: { type: 'creditmemo', id: 3 } }),
    { response: { code: 500, body: 'upstream down', headers: {} } });
  assert.equal(ns.calls.posts.length, 1);
  assert.equal(ns.logsAt('audit').length, 0);
  const errors = ns.logsAt('error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].details, /^creditmemo 3 create -> HTTP 500 \(event [0-9a-f-]{36}\) upstream down$/);
});

test('a 401 (signature refused) is an error too', () => {
  const ns = run(ueContext('create', { newRecord: { type: 'deposit', id: 8 } }), { response: { code: 401, body: '' } });
  assert.match(ns.logsAt('error')[0].details, /HTTP 401/);
});

for (const missing of ['custscript_nsp_receiver_url', 'custscript_nsp_secret_id']) {
  test(`missing ${missing}: error log naming it, no post, no throw`, () => {
    const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }), { params: { [missing]: '  ' } });
    assertNoPost(ns);
    const errors = ns.logsAt('error');
    assert.equal(errors.length, 1);
    assert.match(errors[0].title, /script parameter missing/);
    assert.match(errors[0].details, new RegExp(missing));
  });
}

test('both parameters missing: one error naming both', () => {
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }),
    { params: { custscript_nsp_receiver_url: null, custscript_nsp_secret_id: null } });
  assertNoPost(ns);
  assert.match(ns.logsAt('error')[0].details, /custscript_nsp_receiver_url and custscript_nsp_secret_id/);
});

test('a receiver URL that is not https is refused with an error', () => {
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }),
    { params: { custscript_nsp_receiver_url: 'http://receiver.example.com/events' } });
  assertNoPost(ns);
  assert.match(ns.logsAt('error')[0].title, /https/);
});

test('an API secret the script cannot use is logged as an error, not thrown', () => {
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }),
    { params: { custscript_nsp_secret_id: 'custsecret_not_there' } });
  assertNoPost(ns);
  const errors = ns.logsAt('error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].details, /INVALID_SECRET_KEY/);
});

test('low remaining governance (under the 10 units of a post) skips with an error log', () => {
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }), { remainingUsage: 9 });
  assertNoPost(ns);
  const errors = ns.logsAt('error');
  assert.equal(errors.length, 1);
  assert.match(errors[0].title, /governance/);
  assert.match(errors[0].details, /9 units left/);
});

test('exactly 10 remaining units is enough for the post', () => {
  const ns = run(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } }), { remainingUsage: 10 });
  assert.equal(ns.calls.posts.length, 1);
});

test('a context without a record or id is logged, not thrown', () => {
  for (const ctx of [ueContext('create', {}), ueContext('create', { newRecord: { type: 'invoice', id: null } })]) {
    const ns = run(ctx);
    assertNoPost(ns);
    assert.equal(ns.logsAt('error').length, 1);
  }
});

test('even a failing N/log does not make afterSubmit throw', () => {
  const ns = fakeNetSuite({ response: { code: 503, body: '' } });
  ns.modules['N/log'].error = () => { throw new Error('log down'); };
  const script = ns.loadEntry();
  assert.doesNotThrow(() => script.afterSubmit(ueContext('edit', { newRecord: { type: 'invoice', id: 1 } })));
});
