'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, rejection, sleep } = require('../lib/harness');

const MESSAGE_SEND_TIMEOUT = 512;
const isServerId = (v) => typeof v === 'string' && /^[1-9]\d*$/.test(v);

test('5. alice -> bob live delivery with ext', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const ext = { a: 1, b: 'x', c: true, d: { k: 'v' } };
  const before = Date.now();
  const r = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'hi', ext });
  assert.ok(isServerId(r.serverMsgId), `serverMsgId is a decimal string: ${JSON.stringify(r)}`);
  assert.notEqual(r.serverMsgId, r.localMsgId, 'the server assigns its own id');
  assert.equal(r.message.id, r.serverMsgId);

  const got = await bob.waitFor('onTextMessage', (m) => m.msg === 'hi', 5000);
  assert.equal(got.id, r.serverMsgId, 'received id = serverMsgId of the send');
  assert.equal(got.from, 'alice');
  assert.equal(got.to, 'bob');
  assert.equal(got.chatType, 'singleChat');
  assert.equal(got.type, 'txt');
  assert.deepEqual(got.ext, ext);
  assert.equal(typeof got.time, 'number');
  assert.ok(got.time >= before - 5000 && got.time <= Date.now() + 5000, `time ${got.time} close to now (${before})`);

  await sleep(500);
  assert.equal(bob.all('onTextMessage').length, 1, 'bob got the message exactly once');
  assert.equal(alice.all('onTextMessage').length, 0, 'alice (single device) does not get her own message back');
}));

test('10. send to a user that does not exist rejects with an SDK error type (not a timeout)', scenario(async (s, t) => {
  await s.server.ensureUsers('alice');
  const alice = await s.login('alice');
  const err = await rejection(alice.send({ type: 'txt', chatType: 'singleChat', to: 'nobody', msg: 'hello?' }), 'send to nobody');
  assert.ok(!(err instanceof Error && err.timeout), `the server never answered the send: ${err.message}`);
  assert.equal(typeof err.type, 'number', `rejection carries an SDK error type: ${JSON.stringify(err)}`);
  assert.notEqual(err.type, MESSAGE_SEND_TIMEOUT, 'rejected by the server, not by the SDK timeout');
  t.diagnostic(`send to nobody rejected with type ${err.type} "${err.message}"`);
  // The connection is still usable afterwards.
  await s.server.ensureUsers('bob');
  const bob = await s.login('bob');
  await alice.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'still alive' });
  await bob.waitFor('onTextMessage', (m) => m.msg === 'still alive');
}));

test('11. channel ack and read ack reach the peer', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const sent = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'please read' });
  await bob.waitFor('onTextMessage', (m) => m.id === sent.serverMsgId);

  const ch = await bob.send({ type: 'channel', chatType: 'singleChat', to: 'alice' });
  assert.ok(isServerId(ch.serverMsgId), `channel ack is acked with a server id: ${JSON.stringify(ch)}`);
  const chGot = await alice.waitFor('onChannelMessage', () => true, 5000);
  assert.equal(chGot.from, 'bob');
  assert.equal(chGot.to, 'alice');
  assert.equal(chGot.chatType, 'singleChat');

  const rd = await bob.send({ type: 'read', chatType: 'singleChat', to: 'alice', id: sent.serverMsgId });
  assert.ok(isServerId(rd.serverMsgId), `read ack is acked with a server id: ${JSON.stringify(rd)}`);
  const rdGot = await alice.waitFor('onReadMessage', () => true, 5000);
  assert.equal(rdGot.from, 'bob');
  assert.equal(rdGot.to, 'alice');
  assert.equal(rdGot.mid, sent.serverMsgId, 'read ack refers to the message that was read');
  // Acks are not chat messages.
  assert.equal(alice.all('onTextMessage').length, 0);
}));

test('12. custom, cmd and loc messages arrive with their fields intact', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const bob = await s.login('bob');

  const custom = await alice.send({ type: 'custom', chatType: 'singleChat', to: 'bob', customEvent: 'e', customExts: { k: 'v' }, ext: { n: 2 } });
  const c = await bob.waitFor('onCustomMessage', () => true, 5000);
  assert.equal(c.id, custom.serverMsgId);
  assert.equal(c.type, 'custom');
  assert.equal(c.from, 'alice');
  assert.equal(c.to, 'bob');
  assert.equal(c.customEvent, 'e');
  assert.deepEqual(c.customExts, { k: 'v' });
  assert.deepEqual(c.ext, { n: 2 });

  const cmd = await alice.send({ type: 'cmd', chatType: 'singleChat', to: 'bob', action: 'act', ext: { why: 'test' } });
  const m = await bob.waitFor('onCmdMessage', () => true, 5000);
  assert.equal(m.id, cmd.serverMsgId);
  assert.equal(m.type, 'cmd');
  assert.equal(m.from, 'alice');
  assert.equal(m.to, 'bob');
  assert.equal(m.action, 'act');
  assert.deepEqual(m.ext, { why: 'test' });

  const loc = await alice.send({ type: 'loc', chatType: 'singleChat', to: 'bob', lat: 39.9042, lng: 116.4074, addr: 'Beijing', buildingName: 'Tower' });
  const l = await bob.waitFor('onLocationMessage', () => true, 5000);
  assert.equal(l.id, loc.serverMsgId);
  assert.equal(l.type, 'loc');
  assert.equal(l.from, 'alice');
  assert.equal(l.to, 'bob');
  assert.equal(Number(l.lat), 39.9042);
  assert.equal(Number(l.lng), 116.4074);
  assert.equal(l.addr, 'Beijing');
  assert.equal(l.buildingName, 'Tower');

  // none of them shows up as a text message
  await sleep(300);
  assert.equal(bob.all('onTextMessage').length, 0);
}));
