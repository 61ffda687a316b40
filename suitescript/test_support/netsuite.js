'use strict';
/**
 * Stand-ins for the NetSuite side, for the tests in ../test/ (kept outside test/ so that
 * `node --test test/` does not run this file as a test of its own).
 *
 * - loadScript(): a tiny AMD loader. Runs a SuiteScript file in a vm context with a `define` that
 *   captures (dependencies, factory), resolves 'N/...' to the fakes and './x' to sibling files
 *   (loaded the same way), and returns what the factory returns. `Date` in that context is frozen
 *   at a chosen instant so that t and occurred_at are predictable.
 * - fakeNetSuite(): N/https (records posts; answers {code: 202} unless told otherwise), N/crypto
 *   and N/encode (implemented with node:crypto, so the HMAC is real; API secrets resolved by script
 *   id as NetSuite does), N/crypto/random, N/runtime (parameters, remaining usage, account id),
 *   N/log (records calls).
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const nodeCrypto = require('node:crypto');

const SCRIPT_DIR = path.resolve(__dirname, '..', 'src', 'FileCabinet', 'SuiteScripts', 'ns_pipelines');
const ENTRY = path.join(SCRIPT_DIR, 'ns_pipelines_change_events.js');
const LIB = path.join(SCRIPT_DIR, 'ns_pipelines_change_events_lib.js');

const SECRET_SCRIPT_ID = 'custsecret_nsp_change_events';
const SECRET_VALUE = 'whsec_ns_pipelines_test';
const RECEIVER_URL = 'https://receiver.example.com/netsuite/events';
const ACCOUNT_ID = '1234567_SB1';
// 2024-06-01T12:00:00.250Z: a fraction of a second, to check that t and occurred_at drop it.
const DEFAULT_NOW_MS = Date.UTC(2024, 5, 1, 12, 0, 0, 250);

/** The SuiteScript 2.x UserEventType values (context.type is one of these strings). */
const USER_EVENT_TYPE = Object.freeze({
  APPROVE: 'approve', CANCEL: 'cancel', CHANGEPASSWORD: 'changepassword', COPY: 'copy', CREATE: 'create',
  DELETE: 'delete', DROPSHIP: 'dropship', EDIT: 'edit', EDITFORECAST: 'editforecast', EMAIL: 'email',
  MARKCOMPLETE: 'markcomplete', ORDERITEMS: 'orderitems', PACK: 'pack', PAYBILLS: 'paybills', PRINT: 'print',
  QUICKVIEW: 'quickview', REASSIGN: 'reassign', REJECT: 'reject', SHIP: 'ship', SPECIALORDER: 'specialorder',
  TRANSFORM: 'transform', VIEW: 'view', XEDIT: 'xedit',
});

function fixedDateClass(nowMs) {
  return class FixedDate extends Date {
    constructor(...args) {
      if (args.length === 0) super(nowMs);
      else super(...args);
    }

    static now() {
      return nowMs;
    }
  };
}

function loadScript(file, modules, { nowMs = DEFAULT_NOW_MS } = {}) {
  const context = vm.createContext({ Date: fixedDateClass(nowMs) });
  const cache = new Map();

  const load = (target) => {
    if (cache.has(target)) return cache.get(target);
    let captured = null;
    context.define = (deps, factory) => {
      if (!Array.isArray(deps) || typeof factory !== 'function') {
        throw new Error(`${target}: define(deps, factory) expected`);
      }
      captured = { deps, factory };
    };
    vm.runInContext(fs.readFileSync(target, 'utf8'), context, { filename: target });
    if (!captured) throw new Error(`${target}: no define() call`);
    const { deps, factory } = captured;
    const args = deps.map((dep) => {
      if (dep.startsWith('./') || dep.startsWith('../')) return load(path.resolve(path.dirname(target), `${dep}.js`));
      if (!Object.prototype.hasOwnProperty.call(modules, dep)) throw new Error(`${target}: no stand-in for ${dep}`);
      return modules[dep];
    });
    const exported = factory(...args);
    cache.set(target, exported);
    return exported;
  };
  return load(file);
}

function fakeNetSuite(options = {}) {
  const state = {
    params: {
      custscript_nsp_receiver_url: RECEIVER_URL,
      custscript_nsp_secret_id: SECRET_SCRIPT_ID,
      ...(options.params || {}),
    },
    secrets: { [SECRET_SCRIPT_ID]: SECRET_VALUE, ...(options.secrets || {}) },
    remainingUsage: options.remainingUsage == null ? 1000 : options.remainingUsage,
    response: options.response || { code: 202, body: '{"status":"accepted"}', headers: {} },
    postError: options.postError || null,
    upperCaseHex: Boolean(options.upperCaseHex),
    withoutGenerateUUID: Boolean(options.withoutGenerateUUID),
  };
  const calls = { posts: [], logs: [], secretKeys: [] };

  const Encoding = Object.freeze({
    UTF_8: 'UTF_8', BASE_16: 'BASE_16', BASE_32: 'BASE_32', BASE_64: 'BASE_64',
    BASE_64_URL_SAFE: 'BASE_64_URL_SAFE', HEX: 'HEX',
  });
  const HashAlg = Object.freeze({ MD5: 'MD5', SHA1: 'SHA1', SHA256: 'SHA256', SHA512: 'SHA512' });
  const nodeAlg = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

  const crypto = {
    HashAlg,
    createSecretKey(opts) {
      calls.secretKeys.push({ ...opts });
      if (opts.guid !== undefined && opts.secret !== undefined) throw nsError('INVALID_PARAMS', 'guid and secret are exclusive');
      if (!opts.secret) throw nsError('MISSING_REQD_ARGUMENT', 'createSecretKey: secret');
      if (!Object.prototype.hasOwnProperty.call(state.secrets, opts.secret)) {
        throw nsError('INVALID_SECRET_KEY', `no API secret ${opts.secret} available to this script`);
      }
      if (opts.encoding !== Encoding.UTF_8) throw new Error(`fake createSecretKey: unexpected encoding ${opts.encoding}`);
      return { secret: opts.secret, encoding: opts.encoding, _value: state.secrets[opts.secret] };
    },
    createHmac(opts) {
      if (!nodeAlg[opts.algorithm]) throw nsError('INVALID_ALGORITHM', String(opts.algorithm));
      if (!opts.key || opts.key._value === undefined) throw nsError('INVALID_SECRET_KEY', 'key is not a SecretKey');
      const hmac = nodeCrypto.createHmac(nodeAlg[opts.algorithm], Buffer.from(opts.key._value, 'utf8'));
      return {
        update(u) {
          if (typeof u.input !== 'string') throw nsError('MISSING_REQD_ARGUMENT', 'update: input');
          if (u.inputEncoding !== undefined && u.inputEncoding !== Encoding.UTF_8) {
            throw new Error(`fake Hmac.update: unexpected encoding ${u.inputEncoding}`);
          }
          hmac.update(Buffer.from(u.input, 'utf8'));
        },
        digest(d) {
          if (d.outputEncoding === Encoding.HEX) {
            const hex = hmac.digest('hex');
            return state.upperCaseHex ? hex.toUpperCase() : hex;
          }
          if (d.outputEncoding === Encoding.BASE_64) return hmac.digest('base64');
          throw new Error(`fake Hmac.digest: unexpected encoding ${d.outputEncoding}`);
        },
      };
    },
  };

  const log = {};
  for (const level of ['debug', 'audit', 'error', 'emergency']) {
    log[level] = (entry) => calls.logs.push({ level, title: entry.title, details: entry.details });
  }

  const random = state.withoutGenerateUUID
    ? { generateBytes: () => { throw new Error('not used'); } }
    : { generateUUID: () => nodeCrypto.randomUUID() };

  const modules = {
    'N/https': {
      post(opts) {
        calls.posts.push(opts);
        if (state.postError) throw state.postError;
        return state.response;
      },
    },
    'N/crypto': crypto,
    'N/encode': { Encoding },
    'N/crypto/random': random,
    'N/runtime': {
      accountId: ACCOUNT_ID,
      getCurrentScript: () => ({
        getParameter: ({ name }) => (Object.prototype.hasOwnProperty.call(state.params, name) ? state.params[name] : null),
        getRemainingUsage: () => state.remainingUsage,
      }),
    },
    'N/log': log,
  };

  return {
    state,
    calls,
    modules,
    logsAt: (level) => calls.logs.filter((entry) => entry.level === level),
    loadEntry: (opts) => loadScript(ENTRY, modules, opts),
    loadLib: (opts) => loadScript(LIB, modules, opts),
  };
}

function nsError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A user-event context: record is {type, id}; for delete pass oldRecord. */
function ueContext(type, { newRecord, oldRecord } = {}) {
  return { type, newRecord, oldRecord, UserEventType: USER_EVENT_TYPE };
}

/** Check an X-NS-Signature header against the body, as the receiver would (node:crypto). */
function verifySignature(header, body, secret = SECRET_VALUE) {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return { ok: false, t: null };
  const expected = nodeCrypto.createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(Buffer.from(`${match[1]}.${body}`, 'utf8')).digest();
  const ok = nodeCrypto.timingSafeEqual(expected, Buffer.from(match[2], 'hex'));
  return { ok, t: Number(match[1]) };
}

module.exports = {
  ACCOUNT_ID,
  DEFAULT_NOW_MS,
  ENTRY,
  LIB,
  RECEIVER_URL,
  SCRIPT_DIR,
  SECRET_SCRIPT_ID,
  SECRET_VALUE,
  USER_EVENT_TYPE,
  fakeNetSuite,
  loadScript,
  ueContext,
  verifySignature,
};
