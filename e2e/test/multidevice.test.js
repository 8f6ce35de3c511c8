'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, sleep } = require('../lib/harness');

test('7. multi-device: own message syncs to the other device, replies reach both', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const a1 = await s.login('alice', 'alice/A1');
  const a2 = await s.login('alice', 'alice/A2');
  const bob = await s.login('bob');
  assert.ok(a1.resource && a2.resource && a1.resource !== a2.resource, `two distinct resources: ${a1.resource} ${a2.resource}`);

  const sent = await a1.send({ type: 'txt', chatType: 'singleChat', to: 'bob', msg: 'from A1', ext: { dev: 1 } });
  const atBob = await bob.waitFor('onTextMessage', (m) => m.msg === 'from A1', 5000);
  assert.equal(atBob.id, sent.serverMsgId);
  assert.equal(atBob.from, 'alice');

  const atA2 = await a2.waitFor('onTextMessage', (m) => m.msg === 'from A1', 5000);
  assert.equal(atA2.id, sent.serverMsgId, 'A2 sees the same server id');
  assert.equal(atA2.from, 'alice');
  assert.equal(atA2.to, 'bob');
  assert.deepEqual(atA2.ext, { dev: 1 });

  const reply = await bob.send({ type: 'txt', chatType: 'singleChat', to: 'alice', msg: 'reply from bob' });
  for (const d of [a1, a2]) {
    const m = await d.waitFor('onTextMessage', (x) => x.msg === 'reply from bob', 5000);
    assert.equal(m.id, reply.serverMsgId);
    assert.equal(m.from, 'bob');
    assert.equal(m.to, 'alice');
  }

  await sleep(1000);
  assert.deepEqual(a1.all('onTextMessage').map((m) => m.msg), ['reply from bob'], 'A1 does not get its own message back; gets the reply once');
  assert.deepEqual(a2.all('onTextMessage').map((m) => m.msg), ['from A1', 'reply from bob'], 'A2: the synced message and the reply, once each');
  assert.deepEqual(bob.all('onTextMessage').map((m) => m.msg), ['from A1'], 'bob does not get his own reply back');
}));
