'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, sleep } = require('../lib/harness');

// Wait until `dev` has `count` text messages, then keep listening for `quietMs` more so that
// duplicates or extra deliveries are caught too.
async function collectTexts(dev, count, { timeoutMs = 10000, quietMs = 1500 } = {}) {
  await dev.waitForCount('onTextMessage', count, () => true, timeoutMs);
  await sleep(quietMs);
  return dev.all('onTextMessage');
}

test('6. offline delivery: exactly the 5 messages, in order, once; no re-delivery on the next login', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const sent = [];
  for (let i = 1; i <= 5; i++) {
    const r = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: `offline ${i}`, ext: { i } });
    sent.push({ id: r.serverMsgId, msg: `offline ${i}`, i });
  }
  const bob = await s.login('bob', 'bob#1');
  const got = await collectTexts(bob, 5);
  assert.deepEqual(got.map((m) => m.msg), sent.map((m) => m.msg), 'exactly the 5 messages, in send order, once each');
  assert.deepEqual(got.map((m) => m.id), sent.map((m) => m.id), 'ids are the acked serverMsgIds');
  for (const [k, m] of got.entries()) {
    assert.equal(m.from, 'alice');
    assert.equal(m.to, 'bob');
    assert.deepEqual(m.ext, { i: k + 1 });
  }
  const unique = new Set(bob.all('onMessage').flat().filter((m) => m.type === 'txt').map((m) => m.id));
  assert.equal(unique.size, 5, 'onMessage batches carry the same 5 messages');

  // Log bob out, log in again with a new SDK instance: nothing is delivered again.
  await bob.shutdown();
  const bob2 = await s.login('bob', 'bob#2');
  await sleep(1500);
  assert.deepEqual(bob2.all('onTextMessage').map((m) => m.msg), [], 'no re-delivery after logout/login');
}));

test('8. durability: 20 acked messages survive SIGKILL of roamd', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const N = 20;
  const sent = [];
  for (let i = 1; i <= N; i++) {
    const r = await alice.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: `durable ${i}` });
    sent.push({ id: r.serverMsgId, msg: `durable ${i}` });
  }
  await alice.kill(); // keep its reconnect attempts out of the way
  const oldPort = s.server.port;
  const { signal } = await s.server.kill();
  assert.equal(signal, 'SIGKILL');
  await s.server.start(); // same data dir, new port
  assert.ok(s.server.port > 0);
  const bob = await s.login('bob');
  const got = await collectTexts(bob, N, { timeoutMs: 15000, quietMs: 1000 });
  assert.deepEqual(got.map((m) => m.msg), sent.map((m) => m.msg), `all ${N} acked messages, in order, once (roamd restarted: port ${oldPort} -> ${s.server.port})`);
  assert.deepEqual(got.map((m) => m.id), sent.map((m) => m.id), 'same server ids after the restart');
}));
