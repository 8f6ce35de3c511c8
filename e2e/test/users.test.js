'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('../lib/harness');

test('REST: admin token, user creation (single and batch), duplicates, password token', scenario(async (s) => {
  const bad = await s.server.http('POST', '/token', { body: { grant_type: 'client_credentials', client_id: 'e2e-admin', client_secret: 'nope' } });
  assert.notEqual(bad.status, 200, 'wrong client secret is refused');

  const admin = await s.server.http('POST', '/token', { body: { grant_type: 'client_credentials', client_id: 'e2e-admin', client_secret: 'e2e-secret' } });
  assert.equal(admin.status, 200, admin.text);
  assert.equal(typeof admin.json.access_token, 'string');
  assert.ok(admin.json.expires_in > 0);

  const noAuth = await s.server.http('POST', '/users', { body: { username: 'zed', password: 'pw' } });
  assert.notEqual(noAuth.status, 200, 'creating users needs the admin token');

  const one = await s.server.createUsers({ username: 'alice', password: 'pw' });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.entities.length, 1);
  assert.equal(one.json.entities[0].username, 'alice');
  assert.equal(one.json.entities[0].activated, true);

  const many = await s.server.createUsers([{ username: 'bob', password: 'pw' }, { username: 'dave', password: 'pw2' }]);
  assert.equal(many.status, 200, many.text);
  assert.deepEqual(many.json.entities.map((e) => e.username), ['bob', 'dave']);

  const dup = await s.server.createUsers({ username: 'alice', password: 'other' });
  assert.equal(dup.status, 400, dup.text);
  assert.equal(dup.json.error, 'duplicate_unique_property_exists');

  const tok = await s.server.http('POST', '/token', { body: { grant_type: 'password', username: 'dave', password: 'pw2' } });
  assert.equal(tok.status, 200, tok.text);
  assert.equal(typeof tok.json.access_token, 'string');
  assert.ok(tok.json.expires_in > 0);
  assert.equal(tok.json.user.username, 'dave');

  const wrong = await s.server.http('POST', '/token', { body: { grant_type: 'password', username: 'dave', password: 'pw' } });
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal(wrong.json.error, 'invalid_grant');
  assert.equal(wrong.json.error_description, 'invalid password');
}));

test('9. user ids are case-insensitive: Carol == carol == CAROL', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const created = await s.server.createUsers({ username: 'Carol', password: 'pw' });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.entities[0].username, 'carol', 'stored lower-cased');
  const dup = await s.server.createUsers({ username: 'CAROL', password: 'pw' });
  assert.equal(dup.status, 400, dup.text);
  assert.equal(dup.json.error, 'duplicate_unique_property_exists');

  const tok = await s.server.http('POST', '/token', { body: { grant_type: 'password', username: 'CAROL', password: 'pw' } });
  assert.equal(tok.status, 200, tok.text);
  assert.equal(tok.json.user.username, 'carol');

  // The SDK passes user ids through unchanged: log in as "Carol" (password), receive messages sent to "CAROL" and "carol".
  const carol = await s.device('carol');
  await carol.open({ user: 'Carol', pwd: 'pw' });
  await carol.waitFor('onConnected');
  const alice = await s.login('alice');
  const r1 = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'CAROL', msg: 'to upper' });
  const r2 = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'carol', msg: 'to lower' });
  const got = await carol.waitForCount('onTextMessage', 2, () => true, 5000);
  assert.deepEqual(got.map((m) => [m.id, m.msg, m.from]), [[r1.serverMsgId, 'to upper', 'alice'], [r2.serverMsgId, 'to lower', 'alice']]);
  for (const m of got) assert.equal(String(m.to).toLowerCase(), 'carol');
}));

test('SIGTERM: roamd exits cleanly (code 0) and users survive the restart', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const { code, signal, timedOut } = await s.server.stop();
  assert.ok(!timedOut, 'exits within 5 s of SIGTERM');
  assert.equal(code, 0, `exit code after SIGTERM (signal=${signal})`);
  await s.server.start();
  const alice = await s.device('alice');
  await alice.open({ user: 'alice', pwd: 'pw' });
  await alice.waitFor('onConnected');
}));

test('a token issued before a restart is still accepted after it', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const token = await s.server.userToken('alice');
  await s.server.stop();
  await s.server.start();
  const alice = await s.device('alice');
  await alice.open({ user: 'alice', accessToken: token });
  await alice.waitFor('onConnected');
}));
