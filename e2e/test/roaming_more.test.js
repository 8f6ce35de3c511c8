'use strict';
// Message roaming driven by the real SDK, beyond R1 (roaming.test.js): conversation-list
// paging, history paging both ways (single chat, group, chat room), one-way deletes by time,
// conversation marks, the errors the SDK surfaces, multi-device events a device missed while
// logged out, REST admin messages and the list, and another user's token on alice's paths.
// SDK calls are made the way Easemob's docs (Easemob-chat.d.ts of easemob-websdk 4.21.1) show.
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, rejection, sleep } = require('../lib/harness');

const isServerId = (v) => typeof v === 'string' && /^[1-9]\d*$/.test(v);

// Fail with the SDK's rejection spelled out instead of "rejected with [object]".
async function sdk(dev, method, arg) {
  try {
    return await dev.invoke(method, arg);
  } catch (e) {
    if (e instanceof Error) throw e;
    throw new Error(`${dev.label}: conn.${method}(${JSON.stringify(arg)}) rejected: ${JSON.stringify(e)}`);
  }
}

const text = (to, msg, chatType = 'singleChat') => ({ type: 'txt', chatType, to, msg });
const ids = (list) => list.data.conversations.map((c) => c.conversationId);
const msgs = (page) => page.messages.map((m) => m.msg);

// Sends and spaces the sends by a few ms, so that each message has its own server time (list
// order is by activity time, ms): the expected order is then unambiguous.
async function sendText(dev, to, msg, chatType = 'singleChat') {
  const r = await dev.send(text(to, msg, chatType));
  assert.ok(isServerId(r.serverMsgId), `send acked with a server id: ${JSON.stringify(r)}`);
  await sleep(3);
  return r;
}

function history(dev, targetId, { chatType = 'singleChat', pageSize = 20, cursor = -1, searchDirection = 'up', searchOptions } = {}) {
  const arg = { targetId, chatType, pageSize, cursor, searchDirection };
  if (searchOptions) arg.searchOptions = searchOptions;
  return sdk(dev, 'getHistoryMessages', arg);
}

// Admin REST: POST /{org}/{app}/chatrooms -> data.id (as chatrooms.test.js).
async function restCreateRoom(s, owner) {
  const token = await s.server.adminToken();
  const r = await s.server.http('POST', '/chatrooms', { token, body: { name: 'room', description: 'room', maxusers: 100, owner } });
  assert.equal(r.status, 200, `POST /chatrooms: HTTP ${r.status} ${r.text}`);
  const rid = r.json && r.json.data && r.json.data.id;
  assert.ok(isServerId(rid), `POST /chatrooms answers data.id: ${r.text}`);
  return rid;
}

test('R2. getServerConversations cursor paging: pageSize 2 over 5 conversations gives 2, 2, 1, newest activity first, no repeats or skips, last cursor empty', scenario(async (s) => {
  const peers = ['u1', 'u2', 'u3', 'u4', 'u5'];
  await s.server.ensureUsers('alice', ...peers);
  const alice = await s.login('alice');
  const last = {};
  for (const p of peers) last[p] = await sendText(alice, p, `to ${p}`);
  // u2 becomes the most recently active conversation again.
  last.u2 = await sendText(alice, 'u2', 'to u2 again');
  const expected = ['u2', 'u5', 'u4', 'u3', 'u1'];

  const pages = [];
  let cursor = '';
  for (let i = 0; i < 5; i++) {
    const page = await sdk(alice, 'getServerConversations', { pageSize: 2, cursor });
    assert.equal(page.type, 0);
    pages.push(page);
    cursor = page.data.cursor;
    assert.equal(typeof cursor, 'string', `the SDK returns cursor as a string: ${JSON.stringify(page.data)}`);
    if (cursor === '') break;
  }
  assert.deepEqual(pages.map(ids), [['u2', 'u5'], ['u4', 'u3'], ['u1']], 'pages of 2, 2, 1 in newest-activity order');
  assert.ok(pages[0].data.cursor !== '' && pages[1].data.cursor !== '', 'the first two pages have a cursor');
  assert.notEqual(pages[0].data.cursor, pages[1].data.cursor, 'each page continues from its own cursor');
  assert.equal(pages[2].data.cursor, '', 'the last page has an empty cursor');
  const all = pages.flatMap((p) => p.data.conversations);
  assert.deepEqual(all.map((c) => c.conversationId), expected);
  for (const c of all) {
    assert.equal(c.conversationType, 'singleChat');
    assert.equal(c.unReadCount, 0, `${c.conversationId}: own messages are not unread`);
    assert.equal(c.isPinned, false);
    assert.equal(c.lastMessage.id, last[c.conversationId].serverMsgId, `${c.conversationId}: lastMessage is the newest message`);
    assert.equal(c.lastMessage.from, 'alice');
    assert.equal(c.lastMessage.to, c.conversationId);
  }
  assert.equal(all[0].lastMessage.msg, 'to u2 again');

  // The same list in one page: same order, and no cursor since nothing follows. A page that is
  // filled exactly by the last items has no cursor either.
  const one = await sdk(alice, 'getServerConversations', { pageSize: 50, cursor: '' });
  assert.deepEqual(ids(one), expected);
  assert.equal(one.data.cursor, '');
  const exact = await sdk(alice, 'getServerConversations', { pageSize: 5, cursor: '' });
  assert.deepEqual(ids(exact), expected);
  assert.equal(exact.data.cursor, '', 'a page filled exactly by the last conversations has an empty cursor');
  // The SDK's default page (no arguments at all).
  const dflt = await sdk(alice, 'getServerConversations', {});
  assert.deepEqual(ids(dflt), expected);

  // Activity between pages: u1 (not seen yet) moves to the top after page 1 was read. The
  // next pages still give each conversation that did not move exactly once (u4, u3) and do
  // not repeat one of page 1 (which offset paging would); a fresh first page shows u1 first.
  const q1 = await sdk(alice, 'getServerConversations', { pageSize: 2, cursor: '' });
  assert.deepEqual(ids(q1), ['u2', 'u5']);
  await sendText(alice, 'u1', 'to u1 again');
  const q2 = await sdk(alice, 'getServerConversations', { pageSize: 2, cursor: q1.data.cursor });
  assert.deepEqual(ids(q2), ['u4', 'u3'], 'no repeat of page 1 after u1 moved up');
  assert.equal(q2.data.cursor, '', 'nothing below u3 any more');
  assert.deepEqual(ids(await sdk(alice, 'getServerConversations', { pageSize: 50, cursor: '' })), ['u1', 'u2', 'u5', 'u4', 'u3']);
}));

test('R3. the list is current at once: right after a send (no wait) the conversation is first, with that lastMessage', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  await sendText(alice, 'bob', 'a->b');
  await sendText(alice, 'carol', 'a->c');
  await sendText(alice, 'dave', 'a->d');

  // alice's own send: listed at once.
  const sent = await alice.send(text('bob', 'a->b again'));
  const l1 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l1), ['bob', 'dave', 'carol']);
  assert.equal(l1.data.conversations[0].lastMessage.id, sent.serverMsgId);
  assert.equal(l1.data.conversations[0].lastMessage.msg, 'a->b again');

  // A message to alice: in her list as soon as the sender has the ack (before alice has even
  // seen it), with the unread count.
  const got = await bob.send(text('alice', 'b->a'));
  const l2 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  const first = l2.data.conversations[0];
  assert.equal(first.conversationId, 'bob');
  assert.equal(first.lastMessage.id, got.serverMsgId);
  assert.equal(first.lastMessage.msg, 'b->a');
  assert.equal(first.lastMessage.from, 'bob');
  assert.equal(first.lastMessage.to, 'alice');
  assert.equal(first.unReadCount, 1);
  // ... and in bob's list too.
  const lb = await sdk(bob, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(lb), ['alice']);
  assert.equal(lb.data.conversations[0].lastMessage.id, got.serverMsgId);
  assert.equal(lb.data.conversations[0].unReadCount, 2, 'bob has not read alice\'s two messages');

  // carol's conversation moves to the top with alice's next message.
  const c2 = await alice.send(text('carol', 'a->c again'));
  const l3 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l3), ['carol', 'bob', 'dave']);
  assert.equal(l3.data.conversations[0].lastMessage.id, c2.serverMsgId);
}));

test('R4. getHistoryMessages: "down" is oldest first, a message-id cursor is exclusive, isLast is right at the boundary', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const m = [];
  for (let i = 1; i <= 5; i++) m.push(await sendText(bob, 'alice', `m${i}`));
  const id = (i) => m[i - 1].serverMsgId;

  // down, pages of 2: m1 m2 | m3 m4 | m5
  const d1 = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down' });
  assert.deepEqual(msgs(d1), ['m1', 'm2']);
  assert.equal(d1.isLast, false);
  assert.equal(d1.cursor, id(2), 'the cursor is the last message of the page');
  const d2 = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down', cursor: d1.cursor });
  assert.deepEqual(msgs(d2), ['m3', 'm4'], 'the cursor message itself is not repeated');
  assert.equal(d2.isLast, false);
  const d3 = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down', cursor: d2.cursor });
  assert.deepEqual(msgs(d3), ['m5']);
  assert.equal(d3.isLast, true);
  assert.deepEqual([...d1.messages, ...d2.messages, ...d3.messages].map((x) => x.id), m.map((x) => x.serverMsgId));
  for (const x of d1.messages) {
    assert.equal(x.chatType, 'singleChat');
    assert.equal(x.from, 'bob');
    assert.equal(x.to, 'alice');
    assert.equal(x.type, 'txt');
  }

  // Boundary: a page that exactly takes the rest is the last one.
  const dx = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down', cursor: id(3) });
  assert.deepEqual(msgs(dx), ['m4', 'm5']);
  assert.equal(dx.isLast, true, 'down from m3 with pageSize 2: m4 m5 and nothing after');
  const dy = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down', cursor: id(2) });
  assert.deepEqual(msgs(dy), ['m3', 'm4']);
  assert.equal(dy.isLast, false, 'm5 follows');
  const dz = await history(alice, 'bob', { pageSize: 2, searchDirection: 'down', cursor: id(5) });
  assert.deepEqual(msgs(dz), [], 'nothing after the newest message');
  assert.equal(dz.isLast, true);

  // up, the same way round.
  const u1 = await history(alice, 'bob', { pageSize: 2 });
  assert.deepEqual(msgs(u1), ['m5', 'm4']);
  assert.equal(u1.isLast, false);
  assert.equal(u1.cursor, id(4));
  const u2 = await history(alice, 'bob', { pageSize: 2, cursor: u1.cursor });
  assert.deepEqual(msgs(u2), ['m3', 'm2']);
  assert.equal(u2.isLast, false);
  const u3 = await history(alice, 'bob', { pageSize: 2, cursor: u2.cursor });
  assert.deepEqual(msgs(u3), ['m1']);
  assert.equal(u3.isLast, true);
  const ux = await history(alice, 'bob', { pageSize: 2, cursor: id(3) });
  assert.deepEqual(msgs(ux), ['m2', 'm1']);
  assert.equal(ux.isLast, true, 'up from m3 with pageSize 2: m2 m1 and nothing before');
  // The sender reads the same history from his side.
  const b = await history(bob, 'alice', { pageSize: 20, searchDirection: 'down' });
  assert.deepEqual(msgs(b), ['m1', 'm2', 'm3', 'm4', 'm5']);
  assert.equal(b.isLast, true);
}));

test('R5. getHistoryMessages of a group (groupChat) and of a chat room (chatRoom); a non-member is refused', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const carol = await s.login('carol');
  const codes = await alice.statusCode();

  // A group made with the SDK, as groups.test.js does.
  const created = await sdk(alice, 'createGroup', { data: {
    groupname: 'history group', desc: 'roaming', members: ['bob'], public: true,
    approval: false, allowinvites: true, inviteNeedConfirm: false, maxusers: 200,
  } });
  const gid = created.data && created.data.groupid;
  assert.ok(isServerId(gid), `createGroup: ${JSON.stringify(created)}`);
  const g = [];
  g.push(await sendText(alice, gid, 'g1', 'groupChat'));
  g.push(await sendText(bob, gid, 'g2', 'groupChat'));
  g.push(await sendText(alice, gid, 'g3', 'groupChat'));

  const up = await history(bob, gid, { chatType: 'groupChat' });
  assert.deepEqual(msgs(up), ['g3', 'g2', 'g1']);
  assert.equal(up.isLast, true);
  assert.deepEqual(up.messages.map((x) => x.id), g.map((x) => x.serverMsgId).reverse());
  for (const x of up.messages) {
    assert.equal(x.chatType, 'groupChat');
    assert.equal(x.to, gid);
  }
  assert.deepEqual(up.messages.map((x) => x.from), ['alice', 'bob', 'alice']);
  const down1 = await history(bob, gid, { chatType: 'groupChat', pageSize: 2, searchDirection: 'down' });
  assert.deepEqual(msgs(down1), ['g1', 'g2']);
  assert.equal(down1.isLast, false);
  const down2 = await history(bob, gid, { chatType: 'groupChat', pageSize: 2, searchDirection: 'down', cursor: down1.cursor });
  assert.deepEqual(msgs(down2), ['g3']);
  assert.equal(down2.isLast, true);
  // searchOptions.from: one sender's messages only.
  const fromAlice = await history(bob, gid, { chatType: 'groupChat', searchOptions: { from: 'alice' } });
  assert.deepEqual(msgs(fromAlice), ['g3', 'g1']);
  // The group is in both members' conversation lists with its last message.
  const lb = await sdk(bob, 'getServerConversations', { pageSize: 20, cursor: '' });
  const conv = lb.data.conversations.find((c) => c.conversationId === gid);
  assert.ok(conv, `the group is in bob's list: ${JSON.stringify(lb.data)}`);
  assert.equal(conv.conversationType, 'groupChat');
  assert.equal(conv.lastMessage.id, g[2].serverMsgId);
  assert.equal(conv.lastMessage.chatType, 'groupChat');
  // The group conversation pinned and marked by bob: his other device is told (as a group
  // conversation), the lists show it.
  const bob2 = await s.login('bob', 'bob/B2');
  const gpin = await sdk(bob, 'pinConversation', { conversationId: gid, conversationType: 'groupChat', isPinned: true });
  assert.equal(gpin.data.isPinned, true);
  const gpinEv = await bob2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'pinnedConversation', 5000);
  assert.equal(gpinEv.conversationId, gid);
  assert.equal(gpinEv.conversationType, 'groupChat');
  await sdk(bob, 'addConversationMark', { conversations: [{ conversationId: gid, conversationType: 'groupChat' }], mark: 2 });
  const gmarkEv = await bob2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'markConversation', 5000);
  assert.equal(gmarkEv.conversationId, gid);
  assert.equal(gmarkEv.conversationType, 'groupChat');
  assert.equal(gmarkEv.conversationMark, 2);
  const gpinned = await sdk(bob2, 'getServerPinnedConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(gpinned.data.conversations.map((c) => [c.conversationId, c.conversationType, c.isPinned, c.marks]), [[gid, 'groupChat', true, [2]]]);
  const gmarked = await sdk(bob2, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 2 } });
  assert.deepEqual(ids(gmarked), [gid]);
  await sdk(bob, 'pinConversation', { conversationId: gid, conversationType: 'groupChat', isPinned: false });
  const gunpinEv = await bob2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'unpinnedConversation', 5000);
  assert.equal(gunpinEv.conversationId, gid);
  assert.deepEqual(ids(await sdk(bob2, 'getServerPinnedConversations', { pageSize: 20, cursor: '' })), []);

  // carol is not a member.
  const denied = await rejection(carol.invoke('getHistoryMessages', { targetId: gid, chatType: 'groupChat', pageSize: 20, cursor: -1, searchDirection: 'up' }), 'group history by a non-member');
  assert.ok(!(denied instanceof Error), `an SDK rejection, not ${denied && denied.message}`);
  assert.equal(denied.type, codes.PERMISSION_DENIED, `non-member group history: ${JSON.stringify(denied)}`);

  // A chat room, created over REST and joined with the SDK.
  const rid = await restCreateRoom(s, 'alice');
  for (const d of [alice, bob]) {
    const j = await sdk(d, 'joinChatRoom', { roomId: rid });
    assert.equal(j.data && j.data.result, true, JSON.stringify(j));
  }
  const r1 = await sendText(alice, rid, 'r1', 'chatRoom');
  const r2 = await sendText(bob, rid, 'r2', 'chatRoom');
  const rh = await history(bob, rid, { chatType: 'chatRoom' });
  assert.deepEqual(msgs(rh), ['r2', 'r1']);
  assert.deepEqual(rh.messages.map((x) => x.id), [r2.serverMsgId, r1.serverMsgId]);
  assert.equal(rh.isLast, true);
  for (const x of rh.messages) {
    assert.equal(x.chatType, 'chatRoom');
    assert.equal(x.to, rid);
  }
  const rd = await history(alice, rid, { chatType: 'chatRoom', pageSize: 1, searchDirection: 'down' });
  assert.deepEqual(msgs(rd), ['r1']);
  assert.equal(rd.isLast, false);
  assert.equal(rd.cursor, r1.serverMsgId);

  // One-way deletes by time in a group and a chat room (the SDK's ".../roaming/group/..."
  // path with groupId): gone for bob, kept for alice.
  await sdk(bob, 'removeHistoryMessages', { targetId: gid, chatType: 'groupChat', beforeTimeStamp: Date.now() });
  const gdel = await bob2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'deleteRoaming', 5000);
  assert.equal(gdel.conversationId, gid);
  assert.equal(gdel.chatType, 'groupChat');
  assert.deepEqual(msgs(await history(bob, gid, { chatType: 'groupChat' })), [], 'group history gone for bob');
  assert.deepEqual(msgs(await history(alice, gid, { chatType: 'groupChat' })), ['g3', 'g2', 'g1'], 'alice keeps it');
  await sdk(bob, 'removeHistoryMessages', { targetId: rid, chatType: 'chatRoom', beforeTimeStamp: Date.now() });
  assert.deepEqual(msgs(await history(bob, rid, { chatType: 'chatRoom' })), [], 'room history gone for bob');
  assert.deepEqual(msgs(await history(alice, rid, { chatType: 'chatRoom' })), ['r2', 'r1'], 'alice keeps it');
  // New group messages after the delete are bob's history again.
  await sendText(alice, gid, 'g4', 'groupChat');
  assert.deepEqual(msgs(await history(bob, gid, { chatType: 'groupChat' })), ['g4']);
}));

test('R6. removeHistoryMessages by beforeTimeStamp: gone for alice (all devices told), the peer keeps everything, unread follows', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const a1 = await s.login('alice', 'alice/A1');
  const a2 = await s.login('alice', 'alice/A2');
  const bob = await s.login('bob');
  await sendText(bob, 'alice', 'b1');
  await sendText(bob, 'alice', 'b2');
  await sleep(5);
  const b3 = await sendText(bob, 'alice', 'b3');
  const before = await history(a1, 'bob');
  assert.deepEqual(msgs(before), ['b3', 'b2', 'b1']);
  const l0 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.equal(l0.data.conversations[0].unReadCount, 3);

  // Up to b2's server time: b1 and b2 go, b3 stays (unread 1, still the lastMessage).
  const t2 = before.messages[1].time;
  assert.ok(Number(t2) > 0 && Number(t2) < Number(before.messages[0].time), `server times: ${JSON.stringify(before.messages.map((x) => x.time))}`);
  const r = await sdk(a1, 'removeHistoryMessages', { targetId: 'bob', chatType: 'singleChat', beforeTimeStamp: Number(t2) });
  assert.equal(r, undefined, 'removeHistoryMessages resolves with nothing');
  const ev = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'deleteRoaming', 5000);
  assert.equal(ev.conversationId, 'bob');
  assert.equal(ev.chatType, 'singleChat');
  assert.equal(ev.resource, a1.resource);
  assert.deepEqual(msgs(await history(a1, 'bob')), ['b3']);
  assert.deepEqual(msgs(await history(a2, 'bob')), ['b3'], 'the other device reads the same');
  const l1 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l1), ['bob']);
  assert.equal(l1.data.conversations[0].unReadCount, 1, 'the deleted messages are no longer unread');
  assert.equal(l1.data.conversations[0].lastMessage.id, b3.serverMsgId);

  // Everything up to now.
  await sdk(a1, 'removeHistoryMessages', { targetId: 'bob', chatType: 'singleChat', beforeTimeStamp: Date.now() });
  await a2.waitForCount('onMultiDeviceEvent', 2, (e) => e.operation === 'deleteRoaming', 5000);
  const h = await history(a1, 'bob');
  assert.deepEqual(msgs(h), [], 'history empty for alice');
  assert.equal(h.isLast, true);
  assert.deepEqual(msgs(await history(a1, 'bob', { searchDirection: 'down' })), []);
  const l2 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l2), [], 'an emptied conversation is not listed by default');
  const l3 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '', includeEmptyConversations: true });
  assert.deepEqual(ids(l3), ['bob'], 'includeEmptyConversations lists it');
  assert.equal(l3.data.conversations[0].unReadCount, 0, 'nothing unread');
  assert.equal(l3.data.conversations[0].lastMessage, null, 'no last message');

  // bob still has everything.
  assert.deepEqual(msgs(await history(bob, 'alice')), ['b3', 'b2', 'b1']);
  const lb = await sdk(bob, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(lb), ['alice']);
  assert.equal(lb.data.conversations[0].lastMessage.id, b3.serverMsgId);

  // A new message brings the conversation back, unread 1.
  const b4 = await bob.send(text('alice', 'b4'));
  const l4 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l4), ['bob']);
  assert.equal(l4.data.conversations[0].unReadCount, 1);
  assert.equal(l4.data.conversations[0].lastMessage.id, b4.serverMsgId);
  assert.deepEqual(msgs(await history(a1, 'bob')), ['b4']);

  // By ids: deleting unread messages lowers unread; deleting the last message makes the newest
  // one left the lastMessage.
  await sendText(bob, 'alice', 'b5');
  const b6 = await sendText(bob, 'alice', 'b6');
  const h3 = await history(a1, 'bob');
  assert.deepEqual(msgs(h3), ['b6', 'b5', 'b4']);
  await sdk(a1, 'removeHistoryMessages', { targetId: 'bob', chatType: 'singleChat', messageIds: [h3.messages[1].id] });
  const l5 = await sdk(a2, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.equal(l5.data.conversations[0].unReadCount, 2, 'b4 and b6 unread');
  assert.equal(l5.data.conversations[0].lastMessage.id, b6.serverMsgId);
  await sdk(a1, 'removeHistoryMessages', { targetId: 'bob', chatType: 'singleChat', messageIds: [b6.serverMsgId] });
  const l6 = await sdk(a2, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l6), ['bob']);
  assert.equal(l6.data.conversations[0].unReadCount, 1, 'b4 unread');
  assert.equal(l6.data.conversations[0].lastMessage.id, b4.serverMsgId, 'the newest message alice still has');
  assert.deepEqual(msgs(await history(bob, 'alice')), ['b6', 'b5', 'b4', 'b3', 'b2', 'b1'], 'bob still has everything');
}));

test('R7. conversation marks: addConversationMark / removeConversationMark, getServerConversationsByFilter paging, multi-device events', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const a1 = await s.login('alice', 'alice/A1');
  const a2 = await s.login('alice', 'alice/A2');
  await sendText(a1, 'bob', 'to bob');
  await sendText(a1, 'carol', 'to carol');
  await sendText(a1, 'dave', 'to dave');
  const conv = (id) => ({ conversationId: id, conversationType: 'singleChat' });

  const added = await sdk(a1, 'addConversationMark', { conversations: [conv('bob'), conv('carol')], mark: 0 });
  assert.equal(added, undefined, 'addConversationMark resolves with nothing');
  const evs = await a2.waitForCount('onMultiDeviceEvent', 2, (e) => e.operation === 'markConversation', 5000);
  assert.deepEqual(evs.map((e) => e.conversationId).sort(), ['bob', 'carol']);
  for (const e of evs) {
    assert.equal(e.conversationType, 'singleChat');
    assert.equal(e.conversationMark, 0, `the mark number: ${JSON.stringify(e)}`);
    assert.ok(e.timestamp > 0);
  }
  await sdk(a1, 'addConversationMark', { conversations: [conv('dave')], mark: 19 });
  const e19 = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'markConversation' && e.conversationId === 'dave', 5000);
  assert.equal(e19.conversationMark, 19);

  const f = await sdk(a1, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 0 } });
  assert.equal(f.type, 0);
  assert.deepEqual(ids(f), ['carol', 'bob'], 'marked 0, newest activity first');
  assert.equal(f.data.cursor, '');
  assert.deepEqual(f.data.conversations.map((c) => c.marks), [[0], [0]]);
  assert.equal(f.data.conversations[0].lastMessage.msg, 'to carol');
  // Paging through the filter.
  const p1 = await sdk(a1, 'getServerConversationsByFilter', { pageSize: 1, cursor: '', filter: { mark: 0 } });
  assert.deepEqual(ids(p1), ['carol']);
  assert.notEqual(p1.data.cursor, '');
  const p2 = await sdk(a1, 'getServerConversationsByFilter', { pageSize: 1, cursor: p1.data.cursor, filter: { mark: 0 } });
  assert.deepEqual(ids(p2), ['bob']);
  assert.equal(p2.data.cursor, '');
  assert.deepEqual(ids(await sdk(a2, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 19 } })), ['dave']);
  assert.deepEqual(ids(await sdk(a2, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 1 } })), []);
  // The full list carries the marks.
  const all = await sdk(a2, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(all.data.conversations.map((c) => [c.conversationId, c.marks]), [['dave', [19]], ['carol', [0]], ['bob', [0]]]);

  const removed = await sdk(a1, 'removeConversationMark', { conversations: [conv('bob')], mark: 0 });
  assert.equal(removed, undefined);
  const un = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'unMarkConversation', 5000);
  assert.equal(un.conversationId, 'bob');
  assert.equal(un.conversationType, 'singleChat');
  assert.equal(un.conversationMark, 0);
  assert.deepEqual(ids(await sdk(a1, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 0 } })), ['carol']);
  const all2 = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(all2.data.conversations.map((c) => [c.conversationId, c.marks]), [['dave', [19]], ['carol', [0]], ['bob', []]]);

  // A conversation alice does not have is ignored: no event, not listed.
  await sdk(a1, 'addConversationMark', { conversations: [conv('eve')], mark: 0 });
  assert.deepEqual(ids(await sdk(a1, 'getServerConversationsByFilter', { pageSize: 10, cursor: '', filter: { mark: 0 } })), ['carol']);
  await sleep(500);
  assert.equal(a2.all('onMultiDeviceEvent', (e) => e.conversationId === 'eve').length, 0, 'no event for an ignored conversation');
  // The acting device is not told of its own changes.
  assert.equal(a1.all('onMultiDeviceEvent').length, 0, `A1 gets no event for its own marks: ${JSON.stringify(a1.all('onMultiDeviceEvent'))}`);
}));

test('R8. errors: pageSize 51 (server 400 -> WEBIM_CONNCTION_AJAX_ERROR), a 51st pin (MAX_LIMIT), removeHistoryMessages with too many ids', scenario(async (s) => {
  const peers = Array.from({ length: 51 }, (_, i) => `p${String(i + 1).padStart(2, '0')}`);
  await s.server.ensureUsers('alice', ...peers);
  const alice = await s.login('alice');
  const codes = await alice.statusCode();
  const token = await s.server.userToken('alice');

  // The SDK does not check pageSize: the server refuses 51 with a 400, the SDK maps it.
  await sendText(alice, 'p01', 'hello');
  const big = await rejection(alice.invoke('getServerConversations', { pageSize: 51, cursor: '' }), 'getServerConversations pageSize 51');
  assert.ok(!(big instanceof Error), `an SDK rejection, not ${big && big.message}`);
  assert.equal(big.type, codes.WEBIM_CONNCTION_AJAX_ERROR, `pageSize 51: ${JSON.stringify(big)}`);
  assert.match(String(big.message), /page size/i);
  const raw51 = await s.server.http('GET', '/sdk/user/alice/user_channels/list?&limit=51&cursor=&need_mark=true&needEmptySession=false', { token });
  assert.equal(raw51.status, 400, `limit=51: HTTP ${raw51.status} ${raw51.text}`);
  assert.equal(raw51.json.error, 'illegal_argument');
  const raw0 = await s.server.http('GET', '/sdk/user/alice/user_channels/list?limit=0', { token });
  assert.equal(raw0.status, 400, `limit=0: HTTP ${raw0.status} ${raw0.text}`);
  const ok50 = await sdk(alice, 'getServerConversations', { pageSize: 50, cursor: '' });
  assert.deepEqual(ids(ok50), ['p01']);
  const bigFilter = await rejection(alice.invoke('getServerConversationsByFilter', { pageSize: 51, cursor: '', filter: { mark: 0 } }), 'getServerConversationsByFilter pageSize 51');
  assert.equal(bigFilter.type, codes.WEBIM_CONNCTION_AJAX_ERROR, JSON.stringify(bigFilter));
  const badCursor = await rejection(alice.invoke('getServerConversations', { pageSize: 10, cursor: 'not-a-cursor' }), 'a cursor the server never gave');
  assert.equal(badCursor.type, codes.WEBIM_CONNCTION_AJAX_ERROR, JSON.stringify(badCursor));
  const bigHistory = await rejection(alice.invoke('getHistoryMessages', { targetId: 'p01', chatType: 'singleChat', pageSize: 51, cursor: -1 }), 'getHistoryMessages pageSize 51');
  assert.equal(bigHistory.type, codes.WEBIM_CONNCTION_AJAX_ERROR, JSON.stringify(bigHistory));

  // Pins: 50 are fine, the 51st is MAX_LIMIT (HTTP 403, error_code 40005).
  for (const p of peers.slice(1)) await alice.send(text(p, 'hello'));
  const listed = await sdk(alice, 'getServerConversations', { pageSize: 50, cursor: '' });
  assert.equal(listed.data.conversations.length, 50);
  assert.notEqual(listed.data.cursor, '', '51 conversations: a second page follows');
  const rest = await sdk(alice, 'getServerConversations', { pageSize: 50, cursor: listed.data.cursor });
  assert.equal(rest.data.conversations.length, 1);
  assert.equal(rest.data.cursor, '');
  for (const p of peers.slice(0, 50)) {
    const r = await sdk(alice, 'pinConversation', { conversationId: p, conversationType: 'singleChat', isPinned: true });
    assert.equal(r.data.isPinned, true, JSON.stringify(r));
  }
  const over = await rejection(alice.invoke('pinConversation', { conversationId: 'p51', conversationType: 'singleChat', isPinned: true }), 'pinning a 51st conversation');
  assert.ok(!(over instanceof Error), `an SDK rejection, not ${over && over.message}`);
  assert.equal(over.type, codes.MAX_LIMIT, `51st pin: ${JSON.stringify(over)}`);
  assert.equal(codes.MAX_LIMIT, 50);
  const pinned = await sdk(alice, 'getServerPinnedConversations', { pageSize: 50, cursor: '' });
  assert.equal(pinned.data.conversations.length, 50);
  assert.ok(!ids(pinned).includes('p51'), 'p51 was not pinned');
  assert.deepEqual(ids(pinned), peers.slice(0, 50).reverse(), 'newest pin first');
  // Re-pinning one that is pinned is no new pin; after an unpin there is room again.
  const again = await sdk(alice, 'pinConversation', { conversationId: 'p01', conversationType: 'singleChat', isPinned: true });
  assert.equal(again.data.isPinned, true);
  await sdk(alice, 'pinConversation', { conversationId: 'p02', conversationType: 'singleChat', isPinned: false });
  const now = await sdk(alice, 'pinConversation', { conversationId: 'p51', conversationType: 'singleChat', isPinned: true });
  assert.equal(now.data.isPinned, true);
  // Pinning a conversation alice does not have: CONVERSATION_NOT_EXIST.
  const none = await rejection(alice.invoke('pinConversation', { conversationId: 'nobody', conversationType: 'singleChat', isPinned: true }), 'pin an unknown conversation');
  assert.equal(none.type, codes.CONVERSATION_NOT_EXIST, JSON.stringify(none));

  // removeHistoryMessages: the SDK itself takes at most 20 ids (it rejects before any request);
  // the server takes at most 50 (51 -> 400).
  const fake = (n) => Array.from({ length: n }, (_, i) => String(1300000000000000000n + BigInt(i)));
  for (const n of [21, 51]) {
    const e = await rejection(alice.invoke('removeHistoryMessages', { targetId: 'p01', chatType: 'singleChat', messageIds: fake(n) }), `removeHistoryMessages with ${n} ids`);
    assert.match(String(e.message), /Invalid parameter messageIds/, `${n} ids: ${JSON.stringify(e)}`);
  }
  const raw = (n) => s.server.http('DELETE', `/sdk/message/roaming/chat/user/alice?userId=p01&msgIdList=${fake(n).join(',')}&resource=${alice.resource}`, { token });
  const r51 = await raw(51);
  assert.equal(r51.status, 400, `51 ids: HTTP ${r51.status} ${r51.text}`);
  assert.equal(r51.json.error, 'illegal_argument');
  const r50 = await raw(50);
  assert.equal(r50.status, 200, `50 ids: HTTP ${r50.status} ${r50.text}`);
  const r0 = await s.server.http('DELETE', `/sdk/message/roaming/chat/user/alice?userId=p01&msgIdList=&resource=${alice.resource}`, { token });
  assert.equal(r0.status, 400, `no ids: HTTP ${r0.status} ${r0.text}`);
  // None of the refused calls removed anything.
  assert.deepEqual(msgs(await history(alice, 'p01')), ['hello']);
}));

test('R9. a device logged out while the other pinned and deleted conversations gets those events at its next login (same resource), and its list shows them', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const a1 = await s.login('alice', 'alice/A1');
  const a2 = await s.login('alice', 'alice/A2');
  const resource = a2.resource;
  await sendText(a1, 'bob', 'to bob');
  await sendText(a1, 'carol', 'to carol');
  await sendText(a1, 'dave', 'to dave');

  await a2.close();
  await sleep(200);
  const closedAt = a2.events.length;
  const pin = await sdk(a1, 'pinConversation', { conversationId: 'carol', conversationType: 'singleChat', isPinned: true });
  assert.equal(pin.data.isPinned, true);
  await sdk(a1, 'deleteConversation', { channel: 'bob', chatType: 'singleChat', deleteRoam: true });
  await sdk(a1, 'addConversationMark', { conversations: [{ conversationId: 'dave', conversationType: 'singleChat' }], mark: 3 });
  await sleep(300);
  assert.equal(a2.events.slice(closedAt).filter((e) => e.name === 'onMultiDeviceEvent').length, 0, 'nothing reaches a logged-out device');

  // Log in again in the same SDK instance: the same resource.
  await a2.open({ user: 'alice', accessToken: await s.server.userToken('alice') });
  await a2.waitForCount('onConnected', 2, () => true, 5000);
  assert.equal(a2.resource, resource, 'the device logs in again with its resource');
  const pinned = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'pinnedConversation', 5000);
  assert.equal(pinned.conversationId, 'carol');
  assert.equal(pinned.conversationType, 'singleChat');
  const del = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'deleteConversation', 5000);
  assert.equal(del.conversationId, 'bob');
  const mark = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'markConversation', 5000);
  assert.equal(mark.conversationId, 'dave');
  assert.equal(mark.conversationMark, 3);
  await sleep(700);
  const got = a2.events.slice(closedAt).filter((e) => e.name === 'onMultiDeviceEvent').map((e) => [e.data.operation, e.data.conversationId]);
  assert.deepEqual(got, [['pinnedConversation', 'carol'], ['deleteConversation', 'bob'], ['markConversation', 'dave']], 'each missed event once, in order');
  assert.equal(a1.all('onMultiDeviceEvent').length, 0, 'the acting device gets none of its own');

  const l = await sdk(a2, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l), ['dave', 'carol'], 'bob is gone');
  const carol = l.data.conversations.find((c) => c.conversationId === 'carol');
  assert.equal(carol.isPinned, true);
  assert.equal(carol.pinnedTime, pin.data.pinnedTime);
  assert.deepEqual(l.data.conversations.find((c) => c.conversationId === 'dave').marks, [3]);
  assert.deepEqual(ids(await sdk(a2, 'getServerPinnedConversations', { pageSize: 20, cursor: '' })), ['carol']);
  assert.deepEqual(msgs(await history(a2, 'bob')), [], 'deleteRoam: bob\'s history is gone for alice');

  // Logging in once more replays nothing.
  const before = a2.events.length;
  await a2.close();
  await a2.open({ user: 'alice', accessToken: await s.server.userToken('alice') });
  await a2.waitForCount('onConnected', 3, () => true, 5000);
  await sleep(1000);
  assert.deepEqual(a2.events.slice(before).filter((e) => e.name === 'onMultiDeviceEvent'), [], 'no event is delivered twice');
}));

test('R10. a REST admin message does not change the conversation list (rest_messages_update_conversations is off by default), the rest of the list is unaffected', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const b1 = await sendText(bob, 'alice', 'b1');
  const admin = await s.server.adminToken();
  const r = await s.server.http('POST', '/messages/users', { token: admin, body: { from: 'bob', to: ['alice'], type: 'txt', body: { msg: 'from rest' } } });
  assert.equal(r.status, 200, `POST /messages/users: HTTP ${r.status} ${r.text}`);
  const restId = r.json && r.json.data && r.json.data.alice;
  assert.ok(isServerId(restId), `data.alice is the message id: ${r.text}`);
  // It is delivered live and kept in history ...
  const live = await alice.waitFor('onTextMessage', (m) => m.msg === 'from rest', 5000);
  assert.equal(live.id, restId);
  assert.equal(live.from, 'bob');
  assert.deepEqual(msgs(await history(alice, 'bob')), ['from rest', 'b1']);
  // ... but is not the conversation's lastMessage and not unread, on either side.
  const l = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l), ['bob']);
  assert.equal(l.data.conversations[0].lastMessage.id, b1.serverMsgId);
  assert.equal(l.data.conversations[0].lastMessage.msg, 'b1');
  assert.equal(l.data.conversations[0].unReadCount, 1, 'only b1 is unread');
  const lb = await sdk(bob, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.equal(lb.data.conversations[0].lastMessage.id, b1.serverMsgId);

  // A REST message from someone alice has no conversation with does not list one.
  const r2 = await s.server.http('POST', '/messages/users', { token: admin, body: { from: 'carol', to: ['alice'], type: 'txt', body: { msg: 'carol via rest' } } });
  assert.equal(r2.status, 200, `POST /messages/users: HTTP ${r2.status} ${r2.text}`);
  await alice.waitFor('onTextMessage', (m) => m.msg === 'carol via rest', 5000);
  const l2 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l2), ['bob'], `no conversation with carol: ${JSON.stringify(l2.data)}`);
  assert.equal(l2.data.conversations[0].lastMessage.id, b1.serverMsgId);

  // The list is otherwise as usual: a device message moves it, counts as unread.
  const b2 = await bob.send(text('alice', 'b2'));
  const l3 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l3), ['bob']);
  assert.equal(l3.data.conversations[0].lastMessage.id, b2.serverMsgId);
  assert.equal(l3.data.conversations[0].unReadCount, 2);
}));

test('R11. another user\'s token cannot read or change alice\'s conversations or history (403); no token is 401; the admin may', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  await sendText(alice, 'bob', 'private');
  const bobToken = await s.server.userToken('bob');
  const aliceToken = await s.server.userToken('alice');
  const calls = [
    ['GET', '/sdk/user/alice/user_channels/list?&limit=20&cursor=&need_mark=true&needEmptySession=false', undefined],
    ['GET', '/sdk/user/alice/user_channels/list?&limit=20&cursor=&is_top=true&need_mark=true&needEmptySession=false', undefined],
    ['GET', '/sdk/user/alice/user_channels/mark/search?&limit=10&cursor=&need_mark=true&mark=mark_0', undefined],
    ['POST', '/users/alice/messageroaming', { queue: 'bob@easemob.com', start: -1, pull_number: 20, is_positive: false, msgType: '', end: -1, startTime: null, endTime: null, userId: null }],
    ['POST', '/sdk/user/alice/user_channel/top?resource=x', { type: 'chat', to: 'bob' }],
    ['POST', '/sdk/user/alice/user_channels/mark?resource=x', { mark: 'mark_1', targets: [{ to: 'bob', type: 'chat' }] }],
    ['DELETE', `/sdk/message/roaming/chat/user/alice/time?userId=bob&delTime=${Date.now()}&&resource=x`, undefined],
    ['DELETE', '/user/alice/user_channel?resource=x', { channel: 'bob', type: 'chat', delete_roam: true }],
  ];
  for (const [method, path, body] of calls) {
    const r = await s.server.http(method, path, { token: bobToken, body });
    assert.equal(r.status, 403, `bob's token: ${method} ${path}: HTTP ${r.status} ${r.text}`);
    assert.ok(r.json && r.json.error, `a JSON error body: ${r.text}`);
    assert.ok(!r.text.includes('private'), 'nothing of alice\'s leaks');
    const anon = await s.server.http(method, path, { body });
    assert.equal(anon.status, 401, `no token: ${method} ${path}: HTTP ${anon.status} ${anon.text}`);
  }
  // Nothing changed: alice still has her conversation and history, unpinned and unmarked.
  const l = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(l.data.conversations.map((c) => [c.conversationId, c.isPinned, c.marks]), [['bob', false, []]]);
  assert.deepEqual(msgs(await history(alice, 'bob')), ['private']);
  // alice's own token and the admin's read it.
  const own = await s.server.http('GET', calls[0][1], { token: aliceToken });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.data.channel_infos[0].session_to, 'bob');
  const admin = await s.server.http('POST', '/users/alice/messageroaming', { token: await s.server.adminToken(), body: calls[3][2] });
  assert.equal(admin.status, 200, admin.text);
  assert.equal(admin.json.data.msgs.length, 1);
}));

test('R12. lastMessage in the list and history carry what was sent (custom, location, text with ext), like live delivery; a channel ack zeroes unread', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const pick = (m, keys) => Object.fromEntries(keys.map((k) => [k, m[k]]));
  const common = ['id', 'type', 'chatType', 'from', 'to', 'ext'];
  const cases = [
    { send: { type: 'custom', chatType: 'singleChat', to: 'alice', customEvent: 'ev1', customExts: { a: '1', n: 2 }, ext: { k: 'v', num: 3, obj: { x: [1, 'y'] }, flag: true } }, event: 'onCustomMessage', keys: [...common, 'customEvent', 'customExts'] },
    { send: { type: 'loc', chatType: 'singleChat', to: 'alice', addr: 'Main St 1', buildingName: 'HQ', lat: 39.9, lng: 116.4, ext: {} }, event: 'onLocationMessage', keys: [...common, 'addr', 'lat', 'lng', 'buildingName'] },
    { send: { type: 'txt', chatType: 'singleChat', to: 'alice', msg: 'with ext', ext: { s: 'x', i: -7, d: 1.5, b: false } }, event: 'onTextMessage', keys: [...common, 'msg'] },
  ];
  for (const [n, c] of cases.entries()) {
    const r = await bob.send(c.send);
    const live = await alice.waitFor(c.event, (m) => m.id === r.serverMsgId, 5000);
    const l = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
    const conv = l.data.conversations[0];
    assert.equal(conv.conversationId, 'bob');
    assert.equal(conv.unReadCount, n + 1);
    assert.deepEqual(pick(conv.lastMessage, c.keys), pick(live, c.keys), `${c.send.type}: the list's lastMessage = the live message (${JSON.stringify(conv.lastMessage)} vs ${JSON.stringify(live)})`);
    assert.equal(Number(conv.lastMessage.time), Number(live.time), `${c.send.type}: the same server time`);
    const h = await history(alice, 'bob', { pageSize: 1 });
    assert.deepEqual(pick(h.messages[0], c.keys), pick(live, c.keys), `${c.send.type}: history = the live message`);
  }

  // History filtered by message type (searchOptions.msgTypes) and by server time.
  const all = await history(alice, 'bob');
  assert.deepEqual(all.messages.map((m) => m.type), ['txt', 'loc', 'custom']);
  assert.deepEqual((await history(alice, 'bob', { searchOptions: { msgTypes: ['custom'] } })).messages.map((m) => m.type), ['custom']);
  assert.deepEqual((await history(alice, 'bob', { searchOptions: { msgTypes: ['txt', 'loc'] } })).messages.map((m) => m.type), ['txt', 'loc']);
  const [tTxt, tLoc, tCustom] = all.messages.map((m) => Number(m.time));
  assert.ok(tCustom < tLoc && tLoc < tTxt, `distinct server times: ${[tCustom, tLoc, tTxt]}`);
  const window = await history(alice, 'bob', { searchOptions: { startTime: tLoc, endTime: tLoc } });
  assert.deepEqual(window.messages.map((m) => m.type), ['loc'], 'startTime/endTime are inclusive');
  const since = await history(alice, 'bob', { searchDirection: 'down', searchOptions: { startTime: tLoc } });
  assert.deepEqual(since.messages.map((m) => m.type), ['loc', 'txt']);

  // alice reads the conversation (channel ack): unread 0 at once, for every device.
  await alice.send({ type: 'channel', chatType: 'singleChat', to: 'bob' });
  const l = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.equal(l.data.conversations[0].unReadCount, 0);
  const b = await bob.send(text('alice', 'after read'));
  const l2 = await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.equal(l2.data.conversations[0].unReadCount, 1);
  assert.equal(l2.data.conversations[0].lastMessage.id, b.serverMsgId);
}));

test('R13. deleteConversation without deleteRoam: off the list on every device, history kept; a new message lists it again', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const a1 = await s.login('alice', 'alice/A1');
  const a2 = await s.login('alice', 'alice/A2');
  const bob = await s.login('bob');
  await sendText(bob, 'alice', 'b1');
  await sendText(a1, 'carol', 'a->c');
  await sdk(a1, 'pinConversation', { conversationId: 'bob', conversationType: 'singleChat', isPinned: true });
  const r = await sdk(a1, 'deleteConversation', { channel: 'bob', chatType: 'singleChat', deleteRoam: false });
  assert.equal(r.type, 0);
  const ev = await a2.waitFor('onMultiDeviceEvent', (e) => e.operation === 'deleteConversation', 5000);
  assert.equal(ev.conversationId, 'bob');
  assert.equal(ev.conversationType, 'singleChat');
  assert.deepEqual(ids(await sdk(a2, 'getServerConversations', { pageSize: 20, cursor: '' })), ['carol']);
  assert.deepEqual(ids(await sdk(a2, 'getServerPinnedConversations', { pageSize: 20, cursor: '' })), [], 'a deleted conversation is not pinned any more');
  assert.deepEqual(msgs(await history(a2, 'bob')), ['b1'], 'without deleteRoam the history stays');
  // Deleting a conversation alice never had: CONVERSATION_NOT_EXIST (404, error_code 91001).
  const codes = await a1.statusCode();
  const none = await rejection(a1.invoke('deleteConversation', { channel: 'nobody', chatType: 'singleChat', deleteRoam: false }), 'deleting an unknown conversation');
  assert.equal(none.type, codes.CONVERSATION_NOT_EXIST, JSON.stringify(none));
  const b2 = await bob.send(text('alice', 'b2'));
  const l = await sdk(a1, 'getServerConversations', { pageSize: 20, cursor: '' });
  assert.deepEqual(ids(l), ['bob', 'carol']);
  assert.equal(l.data.conversations[0].lastMessage.id, b2.serverMsgId);
  assert.equal(l.data.conversations[0].isPinned, false);
  assert.deepEqual(msgs(await history(a1, 'bob')), ['b2', 'b1']);
}));

// A conversation the user deleted is gone until a new message brings it back: it cannot be
// pinned meanwhile (CONVERSATION_NOT_EXIST), so the pinned list stays a part of the list.
test('R14. pinning a deleted conversation: the pinned list stays a part of the conversation list', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const alice = await s.login('alice');
  await sendText(alice, 'bob', 'a->b');
  await sendText(alice, 'carol', 'a->c');
  await sdk(alice, 'deleteConversation', { channel: 'bob', chatType: 'singleChat', deleteRoam: false });
  assert.deepEqual(ids(await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '' })), ['carol']);
  const codes = await alice.statusCode();
  const pinned = await alice.invoke('pinConversation', { conversationId: 'bob', conversationType: 'singleChat', isPinned: true }).then((v) => ({ ok: v }), (e) => ({ err: e }));
  const list = ids(await sdk(alice, 'getServerConversations', { pageSize: 20, cursor: '', includeEmptyConversations: true }));
  const pins = ids(await sdk(alice, 'getServerPinnedConversations', { pageSize: 20, cursor: '' }));
  assert.ok(pins.every((p) => list.includes(p)), `every pinned conversation is in the list: pinned ${JSON.stringify(pins)}, list ${JSON.stringify(list)}`);
  assert.ok(pinned.err, 'pinning a deleted conversation is refused');
  assert.equal(pinned.err.type, codes.CONVERSATION_NOT_EXIST, JSON.stringify(pinned.err));
  assert.deepEqual(pins, []);
  assert.deepEqual(list, ['carol']);
  // Back with a new message, it can be pinned again.
  await sendText(alice, 'bob', 'again');
  await alice.invoke('pinConversation', { conversationId: 'bob', conversationType: 'singleChat', isPinned: true });
  assert.deepEqual(ids(await sdk(alice, 'getServerPinnedConversations', { pageSize: 20, cursor: '' })), ['bob']);
}));
