'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, rejection, sleep } = require('../lib/harness');

const WEBIM_CONNCTION_OPEN_ERROR = 1;
const WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR = 28;

test('1. token login: open({user, accessToken}) resolves and onConnected fires', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const token = await s.server.userToken('alice');
  const alice = await s.device('alice');
  const r = await alice.open({ user: 'alice', accessToken: token });
  assert.equal(r.accessToken, token, 'open() resolves with the token it was given');
  await alice.waitFor('onConnected');
  // The SDK adopts the resource from the server's Provision reply: it must be echoed.
  assert.match(String(alice.resource), /^webim_web_\d+$/, 'Provision reply echoes the client resource');
  assert.equal(alice.all('onError').length, 0, 'no onError');
}));

test('2. password login: open({user, pwd}) resolves (the SDK POSTs /token itself)', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const alice = await s.device('alice');
  const r = await alice.open({ user: 'alice', pwd: 'pw' });
  assert.equal(typeof r.accessToken, 'string');
  assert.ok(r.accessToken.length > 0, 'open() resolves with the token from POST /token');
  assert.equal(typeof r.duration, 'number', 'duration = expires_in from POST /token');
  assert.ok(r.duration > 0);
  await alice.waitFor('onConnected');
  assert.equal(alice.all('onError').length, 0, 'no onError');
}));

test('3. wrong password: open() rejects with type 1 "invalid password"', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const alice = await s.device('alice');
  const err = await rejection(alice.open({ user: 'alice', pwd: 'not-the-password' }), 'open with a wrong password');
  assert.equal(err.type, WEBIM_CONNCTION_OPEN_ERROR, `error type: ${JSON.stringify(err)}`);
  assert.equal(err.message, 'invalid password');
  await sleep(300);
  assert.equal(alice.all('onConnected').length, 0, 'onConnected must not fire');
}));

test('4. bad token: open() rejects with type 28 INVALID_TOKEN', scenario(async (s) => {
  await s.server.ensureUsers('alice');
  const alice = await s.device('alice');
  const err = await rejection(alice.open({ user: 'alice', accessToken: 'garbage' }), 'open with a garbage token');
  assert.equal(err.type, WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR, `error type: ${JSON.stringify(err)}`);
  assert.equal(err.message, 'INVALID_TOKEN');
  await sleep(300);
  assert.equal(alice.all('onConnected').length, 0, 'onConnected must not fire');
}));

test('4b. another user\'s token: open({user:"bob", accessToken:<alice\'s>}) rejects with type 28', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const aliceToken = await s.server.userToken('alice');
  const dev = await s.device('bob-with-alice-token');
  const err = await rejection(dev.open({ user: 'bob', accessToken: aliceToken }), 'open as bob with alice\'s token');
  assert.equal(err.type, WEBIM_CONNCTION_TOKEN_NOT_ASSIGN_ERROR, `error type: ${JSON.stringify(err)}`);
  await sleep(300);
  assert.equal(dev.all('onConnected').length, 0, 'onConnected must not fire');
}));
