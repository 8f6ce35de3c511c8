'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario } = require('../lib/harness');

// The SDK's error types for a server-side logout (STATISTIC metas, docs/protocol.md, "Kick").
const WEBIM_CONNECTION_USER_REMOVED = 207;
const WEBIM_CONNECTION_USER_KICKED_BY_CHANGE_PASSWORD = 216;

test('K1. a password change logs the user\'s devices out with error 216; the new password works', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const a1 = await s.login('alice', 'alice/K1');
  const a2 = await s.login('alice', 'alice/K2');
  const admin = await s.server.adminToken();
  const r = await s.server.http('PUT', '/users/alice/password', { body: { newpassword: 'new-pw' }, token: admin });
  assert.equal(r.status, 200, r.text);
  for (const d of [a1, a2]) {
    const err = await d.waitFor('onError', (e) => e.type === WEBIM_CONNECTION_USER_KICKED_BY_CHANGE_PASSWORD, 5000);
    assert.ok(err, 'onError 216');
    await d.waitFor('onDisconnected', () => true, 5000);
  }
  // Logged out for good: the SDK does not reconnect with the void token.
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(a1.all('onConnected').length, 1, 'no reconnect after the kick');
  const again = await s.device('alice');
  await again.open({ user: 'alice', pwd: 'new-pw' });
  await again.waitFor('onConnected');
}));

test('K2. deleting a user logs their devices out with error 207', scenario(async (s) => {
  await s.server.ensureUsers('bob');
  const b = await s.login('bob');
  const admin = await s.server.adminToken();
  const r = await s.server.http('DELETE', '/users/bob', { token: admin });
  assert.equal(r.status, 200, r.text);
  const err = await b.waitFor('onError', (e) => e.type === WEBIM_CONNECTION_USER_REMOVED, 5000);
  assert.ok(err, 'onError 207');
  await b.waitFor('onDisconnected', () => true, 5000);
}));
