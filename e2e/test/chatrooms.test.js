'use strict';
// Chat rooms driven by the real SDK: a room created over REST by the admin, joinChatRoom /
// leaveChatRoom (msync MUC metas), chat-room messages, presence events, and the rejections
// for a room that does not exist or that the sender has not joined.
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, rejection, sleep } = require('../lib/harness');

const isServerId = (v) => typeof v === 'string' && /^[1-9]\d*$/.test(v);
const UNKNOWN_ROOM = '999999999999999999';

// Admin REST: POST /{org}/{app}/chatrooms -> data.id.
async function restCreateRoom(s, { name = 'r1', description = 'room one', maxusers = 100, owner = 'alice' } = {}) {
  const token = await s.server.adminToken();
  const r = await s.server.http('POST', '/chatrooms', { token, body: { name, description, maxusers, owner } });
  assert.equal(r.status, 200, `POST /chatrooms: HTTP ${r.status} ${r.text}`);
  const rid = r.json && r.json.data && r.json.data.id;
  assert.ok(isServerId(rid), `POST /chatrooms answers data.id (a decimal id): ${r.text}`);
  return rid;
}

async function sdk(dev, method, arg) {
  try {
    return await dev.invoke(method, arg);
  } catch (e) {
    if (e instanceof Error) throw e;
    throw new Error(`${dev.label}: conn.${method}(${JSON.stringify(arg)}) rejected: ${JSON.stringify(e)}`);
  }
}

const roomText = (rid, msg) => ({ type: 'txt', chatType: 'chatRoom', to: rid, msg });
const texts = (dev) => dev.all('onTextMessage').map((m) => m.msg);

async function join(dev, roomId) {
  const r = await sdk(dev, 'joinChatRoom', { roomId });
  assert.equal(r.type, 0, `joinChatRoom resolves with type 0: ${JSON.stringify(r)}`);
  assert.equal(r.data && r.data.result, true, `joinChatRoom: data.result true: ${JSON.stringify(r)}`);
  assert.equal(r.data.id, roomId);
  return r;
}

function assertRoomText(got, { id, rid, from, msg }) {
  assert.equal(got.id, id, `received id = the sender's serverMsgId (${JSON.stringify(got)})`);
  assert.equal(got.chatType, 'chatRoom');
  assert.equal(got.type, 'txt');
  assert.equal(got.to, rid);
  assert.equal(got.from, from);
  assert.equal(got.msg, msg);
}

test('R1. chat room: REST-created; owner and bob join, chat; after bob leaves nothing reaches him', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const rid = await restCreateRoom(s);
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const codes = await bob.statusCode();
  await join(alice, rid);
  await join(bob, rid);

  const r1 = await alice.send(roomText(rid, 'welcome to the room'));
  assert.ok(isServerId(r1.serverMsgId), `room send acked with a server id: ${JSON.stringify(r1)}`);
  assert.equal(r1.message.chatType, 'chatRoom');
  assertRoomText(await bob.waitFor('onTextMessage', (m) => m.msg === 'welcome to the room', 5000), { id: r1.serverMsgId, rid, from: 'alice', msg: 'welcome to the room' });

  const r2 = await bob.send(roomText(rid, 'thanks'));
  assertRoomText(await alice.waitFor('onTextMessage', (m) => m.msg === 'thanks', 5000), { id: r2.serverMsgId, rid, from: 'bob', msg: 'thanks' });

  const left = await sdk(bob, 'leaveChatRoom', { roomId: rid });
  assert.equal(left.type, 0, `leaveChatRoom resolves with type 0: ${JSON.stringify(left)}`);
  assert.equal(left.data && left.data.result, true, `leaveChatRoom: data.result true: ${JSON.stringify(left)}`);

  await alice.send(roomText(rid, 'bob is gone'));
  const err = await rejection(bob.send(roomText(rid, 'can I still talk?')), 'send after leaveChatRoom');
  assert.ok(!(err instanceof Error && err.timeout), `send after leaving: the server never answered: ${err.message}`);
  assert.equal(err.type, codes.GROUP_NOT_JOINED, `send after leaving: the SDK's type for "not in group or chatroom" (${codes.GROUP_NOT_JOINED}): ${JSON.stringify(err)}`);
  await sleep(800);
  assert.deepEqual(texts(bob), ['welcome to the room'], 'bob: only the message from before he left, once, and not his own');
  assert.deepEqual(texts(alice), ['thanks'], 'alice: bob\'s message once, not her own, and not the rejected one');
}));

test('R2. joining a nonexistent room rejects with CHATROOM_NOT_EXIST; sending to a room not joined rejects', scenario(async (s, t) => {
  await s.server.ensureUsers('alice', 'bob');
  const rid = await restCreateRoom(s);
  const bob = await s.login('bob');
  const codes = await bob.statusCode();

  const err = await rejection(bob.invoke('joinChatRoom', { roomId: UNKNOWN_ROOM }), 'joinChatRoom(unknown)');
  assert.ok(!(err instanceof Error && err.timeout), `joinChatRoom(unknown): the server never answered: ${err.message}`);
  t.diagnostic(`join unknown room rejected with ${JSON.stringify({ type: err.type, message: err.message })}`);
  assert.equal(err.type, codes.CHATROOM_NOT_EXIST, `joinChatRoom(unknown): CHATROOM_NOT_EXIST (${codes.CHATROOM_NOT_EXIST}): ${JSON.stringify(err)}`);

  const notJoined = await rejection(bob.send(roomText(rid, 'not joined yet')), 'send to a room not joined');
  assert.ok(!(notJoined instanceof Error && notJoined.timeout), `send to a room not joined: the server never answered: ${notJoined.message}`);
  assert.equal(notJoined.type, codes.GROUP_NOT_JOINED, `send to a room not joined: ${JSON.stringify(notJoined)}`);

  // The connection still works: bob can join the real room afterwards.
  await join(bob, rid);
  const ok = await bob.send(roomText(rid, 'now I am in'));
  assert.ok(isServerId(ok.serverMsgId));
}));

test('R3. room presence: members get memberPresence when someone joins and memberAbsence when they leave', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const rid = await restCreateRoom(s);
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  await join(alice, rid);
  await join(bob, rid);
  const joined = await alice.waitFor('onChatroomEvent', (e) => e.operation === 'memberPresence' && e.from === 'bob', 5000);
  assert.equal(joined.id, rid);
  await sdk(bob, 'leaveChatRoom', { roomId: rid });
  const leftEv = await alice.waitFor('onChatroomEvent', (e) => e.operation === 'memberAbsence' && e.from === 'bob', 5000);
  assert.equal(leftEv.id, rid);
  assert.equal(alice.all('onGroupEvent').length, 0, 'room events are chat-room events, not group events');
}));
