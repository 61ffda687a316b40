'use strict';
// Consistency of the SDF project files with each other and with the script (no SuiteCloud CLI needed;
// `suitecloud project:validate` against an account remains the real check).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ENTRY, LIB } = require('../test_support/netsuite');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'src');
const read = (rel) => fs.readFileSync(path.join(SRC, rel), 'utf8');
const OBJECT = read('Objects/customscript_nsp_change_events.xml');
const all = (re, text) => [...text.matchAll(re)].map((m) => m[1]);
const RECORD_TYPES = ['CUSTOMER', 'INVOICE', 'CUSTOMERPAYMENT', 'CREDITMEMO', 'CUSTOMERREFUND', 'DEPOSIT', 'JOURNALENTRY'];

test('suitecloud.config.js points at src/', () => {
  const config = require(path.join(ROOT, 'suitecloud.config.js'));
  assert.equal(config.defaultProjectFolder, 'src');
  assert.ok(fs.existsSync(path.join(SRC, 'manifest.xml')));
  assert.ok(fs.existsSync(path.join(SRC, 'deploy.xml')));
});

test('manifest: an account customization project needing server-side scripting', () => {
  const manifest = read('manifest.xml');
  assert.match(manifest, /<manifest projecttype="ACCOUNTCUSTOMIZATION">/);
  assert.match(manifest, /<projectname>ns-pipelines change events<\/projectname>/);
  assert.match(manifest, /<frameworkversion>1\.0<\/frameworkversion>/);
  assert.match(manifest, /<feature required="true">SERVERSIDESCRIPTING<\/feature>/);
});

test('deploy.xml lists files and objects that exist, and every file the script loads', () => {
  const deploy = read('deploy.xml');
  const paths = all(/<path>~\/([^<]+)<\/path>/g, deploy);
  for (const rel of paths) assert.ok(fs.existsSync(path.join(SRC, rel)), rel);
  const deployed = new Set(paths.map((rel) => path.join(SRC, rel)));
  assert.ok(deployed.has(ENTRY));
  assert.ok(deployed.has(LIB));
  assert.ok(deployed.has(path.join(SRC, 'Objects/customscript_nsp_change_events.xml')));
});

test('the script object names the entry script file, which is a 2.1 user-event script', () => {
  const [scriptfile] = all(/<scriptfile>\[([^\]]+)\]<\/scriptfile>/g, OBJECT);
  assert.equal(scriptfile, '/SuiteScripts/ns_pipelines/ns_pipelines_change_events.js');
  assert.equal(path.join(SRC, 'FileCabinet', scriptfile), ENTRY);
  const entry = fs.readFileSync(ENTRY, 'utf8');
  assert.match(entry, /@NApiVersion 2\.1/);
  assert.match(entry, /@NScriptType UserEventScript/);
  assert.match(entry, /@NModuleScope SameAccount/);
  const lib = fs.readFileSync(LIB, 'utf8');
  assert.match(lib, /@NApiVersion 2\.1/);
  assert.doesNotMatch(lib, /@NScriptType/);
  assert.match(OBJECT, /<usereventscript scriptid="customscript_nsp_change_events">/);
  const [name] = all(/<name>([^<]*)<\/name>/g, OBJECT);
  assert.ok(name.length <= 40, 'name: 40 characters at most');
});

test('script parameters in the object are the ones the script reads', () => {
  const ids = all(/<scriptcustomfield scriptid="([^"]+)">/g, OBJECT);
  assert.deepEqual(ids, ['custscript_nsp_receiver_url', 'custscript_nsp_secret_id']);
  const entry = fs.readFileSync(ENTRY, 'utf8');
  for (const id of ids) {
    assert.ok(entry.includes(`'${id}'`), id);
    assert.ok(id.length <= 40, id);
  }
  assert.deepEqual(all(/<fieldtype>([^<]+)<\/fieldtype>/g, OBJECT), ['URL', 'TEXT']);
});

test('one deployment per record type: deployed, AUDIT, TESTING, all roles, all contexts', () => {
  const deployments = all(/(<scriptdeployment [\s\S]*?<\/scriptdeployment>)/g, OBJECT);
  assert.deepEqual(deployments.map((d) => /<recordtype>([^<]+)</.exec(d)[1]), RECORD_TYPES);
  const ids = deployments.map((d) => /scriptid="([^"]+)"/.exec(d)[1]);
  assert.equal(new Set(ids).size, ids.length);
  for (const d of deployments) {
    const id = /scriptid="([^"]+)"/.exec(d)[1];
    assert.match(id, /^customdeploy_/);
    assert.ok(id.length <= 40, id);
    assert.match(d, /<isdeployed>T<\/isdeployed>/, id);
    assert.match(d, /<loglevel>AUDIT<\/loglevel>/, id);
    assert.match(d, /<status>TESTING<\/status>/, id);
    assert.match(d, /<allroles>T<\/allroles>/, id);
    assert.match(d, /<eventtype><\/eventtype>/, id);
    const contexts = /<executioncontext>([^<]+)</.exec(d)[1].split('|');
    for (const c of ['USERINTERFACE', 'WEBSERVICES', 'RESTWEBSERVICES', 'CSVIMPORT', 'MAPREDUCE', 'SCHEDULED',
      'SUITELET', 'RESTLET', 'WORKFLOW', 'USEREVENT']) {
      assert.ok(contexts.includes(c), `${id}: ${c}`);
    }
  }
});

test('the script loads only N/ modules and files that are deployed with it', () => {
  const deps = (file) => JSON.parse(/define\((\[[^\]]*\])/.exec(fs.readFileSync(file, 'utf8'))[1].replace(/'/g, '"'));
  for (const dep of [...deps(ENTRY), ...deps(LIB)]) {
    if (dep.startsWith('N/')) continue;
    assert.ok(fs.existsSync(path.resolve(path.dirname(ENTRY), `${dep}.js`)), dep);
  }
});
