'use strict';
// Groups driven by the real SDK: created over REST and with the SDK, live and offline group
// chat, rejections for non-members and unknown groups, member removal / addition events,
// the SDK's group reads, leave and destroy, and the REST admin send to a group.
const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, rejection, sleep } = require('../lib/harness');

const isServerId = (v) => typeof v === 'string' && /^[1-9]\d*$/.test(v);
const UNKNOWN_GROUP = '999999999999999999';

// Admin REST: POST /{org}/{app}/chatgroups -> data.groupid.
async function restCreateGroup(s, { owner = 'alice', members = ['bob', 'carol'], groupname = 'g1', desc = 'group one' } = {}) {
  const token = await s.server.adminToken();
  const r = await s.server.http('POST', '/chatgroups', { token, body: { groupname, desc, public: true, maxusers: 200, owner, members } });
  assert.equal(r.status, 200, `POST /chatgroups: HTTP ${r.status} ${r.text}`);
  const gid = r.json && r.json.data && r.json.data.groupid;
  assert.ok(isServerId(gid), `POST /chatgroups answers data.groupid (a decimal id): ${r.text}`);
  return gid;
}

// Fail with the SDK's rejection spelled out instead of "rejected with [object]".
async function sdk(dev, method, arg) {
  try {
    return await dev.invoke(method, arg);
  } catch (e) {
    if (e instanceof Error) throw e;
    throw new Error(`${dev.label}: conn.${method}(${JSON.stringify(arg)}) rejected: ${JSON.stringify(e)}`);
  }
}

const groupText = (gid, msg) => ({ type: 'txt', chatType: 'groupChat', to: gid, msg });
const texts = (dev) => dev.all('onTextMessage').map((m) => m.msg);

// A send that the server must reject (not the SDK's own send timeout).
async function sendRejection(dev, msg, what) {
  const err = await rejection(dev.send(msg), what);
  assert.ok(!(err instanceof Error && err.timeout), `${what}: the server never answered the send: ${err.message}`);
  return err;
}

function assertGroupText(got, { id, gid, from, msg }) {
  assert.equal(got.id, id, `received id = the sender's serverMsgId (${JSON.stringify(got)})`);
  assert.equal(got.chatType, 'groupChat');
  assert.equal(got.type, 'txt');
  assert.equal(got.to, gid);
  assert.equal(got.from, from);
  assert.equal(got.msg, msg);
}

test('G1. REST-created group: three members chat live; each other member gets it, the sender does not', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const gid = await restCreateGroup(s);
  const devs = { alice: await s.login('alice'), bob: await s.login('bob'), carol: await s.login('carol') };

  for (const sender of ['alice', 'bob', 'carol']) {
    const msg = `hello from ${sender}`;
    const r = await devs[sender].send(groupText(gid, msg));
    assert.ok(isServerId(r.serverMsgId), `group send acked with a server id: ${JSON.stringify(r)}`);
    assert.equal(r.message.chatType, 'groupChat');
    for (const other of Object.keys(devs).filter((u) => u !== sender)) {
      const got = await devs[other].waitFor('onTextMessage', (m) => m.msg === msg, 5000);
      assertGroupText(got, { id: r.serverMsgId, gid, from: sender, msg });
    }
  }
  await sleep(700);
  for (const [u, d] of Object.entries(devs)) {
    const expected = ['alice', 'bob', 'carol'].filter((x) => x !== u).map((x) => `hello from ${x}`);
    assert.deepEqual(texts(d), expected, `${u}: the other two messages, once each, and not its own`);
  }
}));

test('G2. SDK createGroup / createGroupVNext: the owner and the members chat in the new groups', scenario(async (s, t) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const carol = await s.login('carol');

  const created = await sdk(alice, 'createGroup', { data: {
    groupname: 'sdk group', desc: 'made by createGroup', members: ['bob', 'carol'], public: true,
    approval: false, allowinvites: true, inviteNeedConfirm: false, maxusers: 200,
  } });
  const gid = created.data && created.data.groupid;
  assert.ok(isServerId(gid), `createGroup resolves with data.groupid: ${JSON.stringify(created)}`);

  const r1 = await bob.send(groupText(gid, 'bob in sdk group'));
  for (const d of [alice, carol]) assertGroupText(await d.waitFor('onTextMessage', (m) => m.msg === 'bob in sdk group'), { id: r1.serverMsgId, gid, from: 'bob', msg: 'bob in sdk group' });
  const r2 = await alice.send(groupText(gid, 'owner speaks'));
  for (const d of [bob, carol]) assertGroupText(await d.waitFor('onTextMessage', (m) => m.msg === 'owner speaks'), { id: r2.serverMsgId, gid, from: 'alice', msg: 'owner speaks' });

  if (await alice.hasMethod('createGroupVNext')) {
    const v = await sdk(alice, 'createGroupVNext', {
      groupName: 'vnext group', description: 'made by createGroupVNext', members: ['carol'], isPublic: true,
      needApprovalToJoin: false, allowMemberToInvite: true, inviteNeedConfirm: false, maxMemberCount: 200,
    });
    const gid2 = v.data && v.data.groupId;
    assert.ok(isServerId(gid2), `createGroupVNext resolves with data.groupId: ${JSON.stringify(v)}`);
    assert.notEqual(gid2, gid);
    const r3 = await carol.send(groupText(gid2, 'carol in vnext group'));
    assertGroupText(await alice.waitFor('onTextMessage', (m) => m.msg === 'carol in vnext group'), { id: r3.serverMsgId, gid: gid2, from: 'carol', msg: 'carol in vnext group' });
    // bob is not a member of the second group
    const err = await sendRejection(bob, groupText(gid2, 'bob is not in vnext'), 'bob -> vnext group');
    assert.equal(err.type, (await bob.statusCode()).GROUP_NOT_JOINED, `non-member send: ${JSON.stringify(err)}`);
  } else {
    t.diagnostic('createGroupVNext is not in this SDK: skipped');
  }
  await sleep(300);
  assert.ok(!texts(bob).includes('carol in vnext group'), 'a non-member does not get the other group\'s message');
}));

test('G3. an offline member catches up at login: all group messages, in order, once', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const gid = await restCreateGroup(s);
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const sent = [];
  for (let i = 1; i <= 6; i++) {
    const [sender, from] = i % 3 === 0 ? [bob, 'bob'] : [alice, 'alice'];
    const msg = `offline group ${i}`;
    const r = await sender.send(groupText(gid, msg));
    sent.push({ id: r.serverMsgId, msg, from });
  }
  const carol = await s.login('carol', 'carol#1');
  await carol.waitForCount('onTextMessage', sent.length, () => true, 10000);
  await sleep(1500);
  const got = carol.all('onTextMessage');
  assert.deepEqual(got.map((m) => m.msg), sent.map((m) => m.msg), 'all group messages, in send order, once each');
  assert.deepEqual(got.map((m) => m.id), sent.map((m) => m.id), 'ids are the acked serverMsgIds');
  for (const [k, m] of got.entries()) {
    assert.equal(m.chatType, 'groupChat');
    assert.equal(m.to, gid);
    assert.equal(m.from, sent[k].from);
  }
  await carol.shutdown();
  const carol2 = await s.login('carol', 'carol#2');
  await sleep(1500);
  assert.deepEqual(texts(carol2), [], 'no re-delivery on the next login');
}));

test('G4. a non-member\'s send rejects with GROUP_NOT_JOINED, an unknown group\'s with GROUP_NOT_EXIST', scenario(async (s, t) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const gid = await restCreateGroup(s);
  const bob = await s.login('bob');
  const dave = await s.login('dave');
  const codes = await dave.statusCode();

  const notMember = await sendRejection(dave, groupText(gid, 'let me talk'), 'non-member send');
  t.diagnostic(`non-member send rejected with ${JSON.stringify({ type: notMember.type, message: notMember.message })}`);
  assert.equal(notMember.type, codes.GROUP_NOT_JOINED, `non-member: type GROUP_NOT_JOINED (${codes.GROUP_NOT_JOINED}): ${JSON.stringify(notMember)}`);

  const unknown = await sendRejection(dave, groupText(UNKNOWN_GROUP, 'anyone?'), 'unknown group send');
  t.diagnostic(`unknown group send rejected with ${JSON.stringify({ type: unknown.type, message: unknown.message })}`);
  assert.equal(unknown.type, codes.GROUP_NOT_EXIST, `unknown group: type GROUP_NOT_EXIST (${codes.GROUP_NOT_EXIST}): ${JSON.stringify(unknown)}`);

  // The connection still works, and the members never saw the rejected message.
  const ok = await bob.send(groupText(gid, 'members only'));
  assert.ok(isServerId(ok.serverMsgId));
  await sleep(500);
  assert.deepEqual(texts(bob), [], 'bob got nothing from dave');
}));

test('G5. removed member: removeMember event (SDK and REST removal), later sends reject', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const gid = await restCreateGroup(s, { members: ['bob', 'carol', 'dave'] });
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const carol = await s.login('carol');
  const dave = await s.login('dave');
  const codes = await bob.statusCode();

  // The owner removes bob with the SDK.
  await sdk(alice, 'removeGroupMember', { groupId: gid, username: 'bob' });
  const ev = await bob.waitFor('onGroupEvent', (e) => e.operation === 'removeMember', 5000);
  assert.equal(ev.id, gid);
  assert.equal(ev.from, 'alice', 'the operator is the owner');
  const err = await sendRejection(bob, groupText(gid, 'am I still here?'), 'removed member send');
  assert.equal(err.type, codes.GROUP_NOT_JOINED, `removed member's send: GROUP_NOT_JOINED: ${JSON.stringify(err)}`);

  // The admin removes dave over REST.
  const token = await s.server.adminToken();
  const del = await s.server.http('DELETE', `/chatgroups/${gid}/users/dave`, { token });
  assert.equal(del.status, 200, `DELETE /chatgroups/{id}/users/dave: HTTP ${del.status} ${del.text}`);
  const ev2 = await dave.waitFor('onGroupEvent', (e) => e.operation === 'removeMember', 5000);
  assert.equal(ev2.id, gid);
  const err2 = await sendRejection(dave, groupText(gid, 'dave after removal'), 'REST-removed member send');
  assert.equal(err2.type, codes.GROUP_NOT_JOINED, `REST-removed member's send: GROUP_NOT_JOINED: ${JSON.stringify(err2)}`);

  // The remaining members still chat, and the removed ones no longer receive.
  const r = await alice.send(groupText(gid, 'after the removals'));
  assertGroupText(await carol.waitFor('onTextMessage', (m) => m.msg === 'after the removals'), { id: r.serverMsgId, gid, from: 'alice', msg: 'after the removals' });
  await sleep(700);
  assert.deepEqual(texts(bob), [], 'bob (removed) gets no more group messages');
  assert.deepEqual(texts(dave), [], 'dave (removed) gets no more group messages');
  assert.deepEqual(texts(carol), ['after the removals'], 'carol never saw the rejected sends');
}));

test('G6. member added: online members get memberPresence (SDK invite and REST add)', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const gid = await restCreateGroup(s, { members: ['bob'] });
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const carol = await s.login('carol');
  const joined = (user) => (e) => e.id === gid && ((e.operation === 'memberPresence' && e.from === user) ||
    (e.operation === 'membersPresence' && Array.isArray(e.members) && e.members.includes(user)));

  // The owner invites carol with the SDK (public group, inviteNeedConfirm false: added at once).
  const inv = await sdk(alice, 'inviteUsersToGroup', { groupId: gid, users: ['carol'] });
  assert.equal(inv.type, 0, `inviteUsersToGroup resolves: ${JSON.stringify(inv)}`);
  await bob.waitFor('onGroupEvent', joined('carol'), 5000);
  const r = await carol.send(groupText(gid, 'carol joined'));
  assertGroupText(await bob.waitFor('onTextMessage', (m) => m.msg === 'carol joined'), { id: r.serverMsgId, gid, from: 'carol', msg: 'carol joined' });

  // The admin adds dave over REST.
  const token = await s.server.adminToken();
  const add = await s.server.http('POST', `/chatgroups/${gid}/users/dave`, { token });
  assert.equal(add.status, 200, `POST /chatgroups/{id}/users/dave: HTTP ${add.status} ${add.text}`);
  await bob.waitFor('onGroupEvent', joined('dave'), 5000);
  await carol.waitFor('onGroupEvent', joined('dave'), 5000);
  const dave = await s.login('dave');
  const r2 = await alice.send(groupText(gid, 'welcome dave'));
  assertGroupText(await dave.waitFor('onTextMessage', (m) => m.msg === 'welcome dave'), { id: r2.serverMsgId, gid, from: 'alice', msg: 'welcome dave' });
}));

test('G7. SDK reads: getJoinedGroups, getGroupInfo, listGroupMembers', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const gid = await restCreateGroup(s, { groupname: 'readers', desc: 'read me' });
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const dave = await s.login('dave');

  for (const [d, role] of [[alice, 'owner'], [bob, 'member']]) {
    const j = await sdk(d, 'getJoinedGroups', { pageNum: 1, pageSize: 20 });
    assert.ok(Array.isArray(j.data), `getJoinedGroups: data is an array: ${JSON.stringify(j)}`);
    const g = j.data.find((x) => x.groupid === gid);
    assert.ok(g, `${d.label}: getJoinedGroups lists the group ${gid}: ${JSON.stringify(j.data)}`);
    assert.equal(g.groupname, 'readers');
    assert.equal(g.role, role, 'role = the permission field');
    assert.equal(g.disabled, false);
  }
  const none = await sdk(dave, 'getJoinedGroups', { pageNum: 1, pageSize: 20 });
  assert.deepEqual(none.data, [], 'a non-member has no groups');

  const info = await sdk(bob, 'getGroupInfo', { groupId: gid });
  const detail = Array.isArray(info.data) ? info.data[0] : info.data;
  assert.ok(detail && typeof detail === 'object', `getGroupInfo: data[0] is the group: ${JSON.stringify(info)}`);
  assert.equal(detail.id, gid);
  assert.equal(detail.name, 'readers');
  assert.equal(detail.description, 'read me');
  assert.equal(detail.owner, 'alice');
  assert.equal(Number(detail.affiliations_count), 3, 'owner + 2 members');
  assert.equal(Number(detail.maxusers), 200);
  assert.equal(detail.public, true);

  const unknown = await rejection(bob.invoke('getGroupInfo', { groupId: UNKNOWN_GROUP }), 'getGroupInfo(unknown)');
  assert.equal(unknown.type, (await bob.statusCode()).GROUP_NOT_EXIST, `getGroupInfo of an unknown group: GROUP_NOT_EXIST: ${JSON.stringify(unknown)}`);

  const list = await sdk(bob, 'listGroupMembers', { groupId: gid, pageNum: 1, pageSize: 20 });
  assert.ok(Array.isArray(list.data), `listGroupMembers: data is an array: ${JSON.stringify(list)}`);
  assert.deepEqual(list.data.filter((m) => m.owner).map((m) => m.owner), ['alice'], `one owner: ${JSON.stringify(list.data)}`);
  assert.deepEqual(list.data.filter((m) => m.member).map((m) => m.member).sort(), ['bob', 'carol'], `members: ${JSON.stringify(list.data)}`);
}));

test('G8. leaveGroup by a member, destroyGroup by the owner -> destroy event', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const gid = await restCreateGroup(s);
  const alice = await s.login('alice');
  const bob = await s.login('bob');
  const carol = await s.login('carol');
  const codes = await bob.statusCode();

  const left = await sdk(bob, 'leaveGroup', { groupId: gid });
  assert.equal(left.type, 0, `leaveGroup resolves: ${JSON.stringify(left)}`);
  const mine = await sdk(bob, 'getJoinedGroups', { pageNum: 1, pageSize: 20 });
  assert.ok(!(mine.data || []).some((g) => g.groupid === gid), `bob no longer lists the group: ${JSON.stringify(mine.data)}`);
  const list = await sdk(alice, 'listGroupMembers', { groupId: gid, pageNum: 1, pageSize: 20 });
  assert.deepEqual(list.data.map((m) => m.member || m.owner).sort(), ['alice', 'carol'], `bob left the member list: ${JSON.stringify(list.data)}`);
  const err = await sendRejection(bob, groupText(gid, 'after leaving'), 'send after leaveGroup');
  assert.equal(err.type, codes.GROUP_NOT_JOINED, `send after leaving: GROUP_NOT_JOINED: ${JSON.stringify(err)}`);

  // Only the owner may destroy: a member's attempt is refused.
  const denied = await rejection(carol.invoke('destroyGroup', { groupId: gid }), 'destroyGroup by a member');
  assert.ok(!(denied instanceof Error), `destroyGroup by a member: an SDK rejection, not ${denied && denied.message}`);
  assert.equal(denied.type, codes.PERMISSION_DENIED, `destroyGroup by a member: PERMISSION_DENIED: ${JSON.stringify(denied)}`);

  const destroyed = await sdk(alice, 'destroyGroup', { groupId: gid });
  assert.equal(destroyed.type, 0, `destroyGroup resolves: ${JSON.stringify(destroyed)}`);
  const ev = await carol.waitFor('onGroupEvent', (e) => e.operation === 'destroy', 5000);
  assert.equal(ev.id, gid);
  assert.equal(ev.from, 'alice');
  const gone = await sendRejection(carol, groupText(gid, 'anyone left?'), 'send to a destroyed group');
  assert.equal(gone.type, codes.GROUP_NOT_EXIST, `send to a destroyed group: GROUP_NOT_EXIST: ${JSON.stringify(gone)}`);
  await sleep(300);
  assert.equal(bob.all('onGroupEvent', (e) => e.operation === 'destroy').length, 0, 'bob (left before) gets no destroy event');
}));

test('G9. REST admin send to a group reaches the online members', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol');
  const gid = await restCreateGroup(s);
  const bob = await s.login('bob');
  const carol = await s.login('carol');
  const token = await s.server.adminToken();
  const r = await s.server.http('POST', '/messages/chatgroups', { token, body: { from: 'alice', to: [gid], type: 'txt', body: { msg: 'from rest' } } });
  assert.equal(r.status, 200, `POST /messages/chatgroups: HTTP ${r.status} ${r.text}`);
  for (const d of [bob, carol]) {
    const got = await d.waitFor('onTextMessage', (m) => m.msg === 'from rest', 5000);
    assert.equal(got.chatType, 'groupChat');
    assert.equal(got.to, gid);
    assert.equal(got.from, 'alice');
    assert.ok(isServerId(got.id), `a server id: ${got.id}`);
  }
  await sleep(500);
  assert.deepEqual(texts(bob), ['from rest'], 'once');
}));

test('G10. SDK write calls resolve with the result shapes of the SDK\'s typings (Easemob-chat.d.ts)', scenario(async (s) => {
  await s.server.ensureUsers('alice', 'bob', 'carol', 'dave');
  const alice = await s.login('alice');
  const bob = await s.login('bob');

  const created = await sdk(alice, 'createGroup', { data: { groupname: 'shapes', desc: '', members: ['bob', 'carol'], public: true, approval: false, allowinvites: true, inviteNeedConfirm: false, maxusers: 200 } });
  const gid = created.data.groupid; // CreateGroupResult {groupid}
  assert.ok(isServerId(gid), JSON.stringify(created));

  // removeGroupMember: RemoveGroupMemberResult {action:'remove_member', groupid, result, user}
  const removed = await sdk(alice, 'removeGroupMember', { groupId: gid, username: 'carol' });
  assert.equal(removed.type, 0);
  assert.equal(removed.data.action, 'remove_member', JSON.stringify(removed));
  assert.equal(removed.data.groupid, gid);
  assert.equal(removed.data.result, true);
  assert.equal(removed.data.user, 'carol');

  // leaveGroup: {result: true}
  const left = await sdk(bob, 'leaveGroup', { groupId: gid });
  assert.equal(left.data.result, true, JSON.stringify(left));

  const inv = await sdk(alice, 'inviteUsersToGroup', { groupId: gid, users: ['carol', 'dave'] });

  // destroyGroup: DestroyGroupResult {id, success}
  const destroyed = await sdk(alice, 'destroyGroup', { groupId: gid });
  assert.equal(destroyed.data.success, true, JSON.stringify(destroyed));
  assert.equal(destroyed.data.id, gid);

  // inviteUsersToGroup: InviteUsersToGroupResult[] = [{action:'invite', id, result, user}, ...]
  assert.equal(inv.type, 0);
  assert.ok(Array.isArray(inv.data), `inviteUsersToGroup: data is InviteUsersToGroupResult[] (one entry per user): ${JSON.stringify(inv)}`);
  assert.deepEqual(inv.data.map((x) => [x.user, x.result, x.action, x.id]).sort(), [['carol', true, 'invite', gid], ['dave', true, 'invite', gid]], JSON.stringify(inv.data));
}));
