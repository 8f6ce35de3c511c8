// The web chat in a real browser: two users chat and the list and unread badges follow; a
// second device of the same user sees pins, marks and deletes live; history pages load as the
// user scrolls up. Users (password "pw") are seeded by scripts/web.sh on a fresh roamd.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, TIMEOUT, chatWith, conv, createGroup, device, launch, listed, messages, order, send, shot, waitUntil } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Waits until the list shows conversation `id` with `want` (a predicate on `listed`). */
async function until(page, id, want, what) {
  await waitUntil(page, ({ id }) => !!document.querySelector(`#conversations li.conv[data-id="${id}"]`), { id });
  const deadline = Date.now() + 20000;
  let seen;
  while (Date.now() < deadline) {
    seen = await listed(page, id);
    if (seen && want(seen)) return seen;
    await page.waitForTimeout(100); // polling the page's state, not synchronising on time
  }
  assert.fail(`${what}: conversation ${id} is listed as ${JSON.stringify(seen)}`);
}

test('two users chat: the list, its order and unread badges follow; opening sends the read ack', async () => {
  const alice = await device(browser, 'alice');
  const bob = await device(browser, 'bob');
  await chatWith(alice, 'bob');
  await send(alice, 'hello bob');
  await send(alice, 'are you there?');
  // bob's list gets the conversation live, with a badge of 2 and the last message.
  const seen = await until(bob, 'alice', (c) => c.unread === 2, 'two unread from alice');
  assert.equal(seen.badge, '2');
  assert.equal(seen.last, 'are you there?');
  await shot(bob, '1-bob-unread');

  // A message from a second peer puts that conversation on top with its own badge.
  const carol = await device(browser, 'carol');
  await chatWith(carol, 'bob');
  await send(carol, 'hi from carol');
  await until(bob, 'carol', (c) => c.unread === 1, 'one unread from carol');
  assert.deepEqual(await order(bob), ['carol', 'alice']);

  // Opening the conversation shows the history and clears the badge (the read ack).
  await conv(bob, 'alice').click();
  await waitUntil(bob, () => document.querySelectorAll('#messages li.msg').length === 2);
  assert.deepEqual(await messages(bob).locator('.text').allTextContents(), ['hello bob', 'are you there?']);
  const read = await until(bob, 'alice', (c) => c.unread === 0, 'read once opened');
  assert.equal(read.badge, null);
  await send(bob, 'here I am');
  // alice has the conversation open: the reply appears, with no badge.
  await waitUntil(alice, () => [...document.querySelectorAll('#messages li.msg .text')].some((t) => t.textContent === 'here I am'));
  assert.equal((await listed(alice, 'bob')).unread, 0);
  // The read ack reached the server: bob's second device lists alice as read, carol unread.
  const bob2 = await device(browser, 'bob');
  await until(bob2, 'alice', (c) => c.unread === 0 && c.last === 'here I am', 'read on the server');
  await until(bob2, 'carol', (c) => c.unread === 1, 'carol still unread');
  // bob pins and stars alice: pinned goes on top of carol's newer conversation.
  await bob.click('#pin');
  await bob.click('#star');
  await until(bob, 'alice', (c) => c.pinned && c.marks.includes(0), 'pinned and starred');
  assert.deepEqual(await order(bob), ['alice', 'carol']);
  await until(bob2, 'alice', (c) => c.pinned && c.marks.includes(0), 'pinned and starred on the other device');
  assert.deepEqual(await order(bob2), ['alice', 'carol']);
  await shot(alice, '1-alice-chat');
  await shot(bob, '1-bob-chat');
  assert.deepEqual([alice.errors, bob.errors, bob2.errors, carol.errors].flat(), []);
  await Promise.all([alice, bob, bob2, carol].map((p) => p.context().close()));
});

test('a second device of the same user sees pin, mark and deletes live', async () => {
  const dave = await device(browser, 'dave');
  const erin = await device(browser, 'erin');
  await chatWith(erin, 'dave');
  await send(erin, 'one');
  await send(erin, 'two');
  await send(erin, 'three');
  await chatWith(dave, 'frank');
  await send(dave, 'hi frank');
  await until(dave, 'erin', (c) => c.unread === 3, 'three unread from erin');
  const dave2 = await device(browser, 'dave');
  await until(dave2, 'erin', () => true, 'the second device lists erin');
  // What one device sends shows on the other, as read.
  await send(dave, 'sent from the first device');
  await until(dave2, 'frank', (c) => c.last === 'sent from the first device' && c.unread === 0, 'own message from the other device');

  // Pin on one device: the other shows it pinned and on top.
  await conv(dave, 'erin').click();
  await until(dave, 'erin', (c) => c.unread === 0, 'read once opened');
  await dave.click('#pin');
  await until(dave, 'erin', (c) => c.pinned, 'pinned here');
  await until(dave2, 'erin', (c) => c.pinned, 'pinned on the other device');
  assert.equal((await order(dave2))[0], 'erin');
  // The read ack from the first device clears the badge on the second.
  await until(dave2, 'erin', (c) => c.unread === 0, 'read on the other device');
  // A mark (the star) follows too.
  await dave.click('#star');
  await until(dave2, 'erin', (c) => c.marks.includes(0), 'starred on the other device');
  await shot(dave2, '2-dave2-pinned');

  // Deleting one message removes it from the other device's open conversation.
  await conv(dave2, 'erin').click();
  await waitUntil(dave2, () => document.querySelectorAll('#messages li.msg').length === 3);
  const two = dave.locator('#messages li.msg', { hasText: 'two' });
  await two.hover();
  await two.locator('button.delete').click();
  await waitUntil(dave, () => document.querySelectorAll('#messages li.msg').length === 2);
  await waitUntil(dave2, () => ![...document.querySelectorAll('#messages li.msg .text')].some((t) => t.textContent === 'two'));
  assert.deepEqual(await messages(dave2).locator('.text').allTextContents(), ['one', 'three']);

  // Unpin, then delete the conversation: both follow on the other device.
  await dave.click('#pin');
  await until(dave2, 'erin', (c) => !c.pinned, 'unpinned on the other device');
  await dave.click('#delete-conversation');
  await waitUntil(dave, () => !document.querySelector('#conversations li.conv[data-id="erin"]'));
  await waitUntil(dave2, () => !document.querySelector('#conversations li.conv[data-id="erin"]'));
  assert.equal(await dave2.locator('#messages li.msg').count(), 0, 'the deleted conversation is closed');
  assert.deepEqual(await order(dave2), ['frank']);
  // After a reload the server agrees.
  const again = await device(browser, 'dave');
  await until(again, 'frank', () => true, 'frank listed');
  assert.deepEqual(await order(again), ['frank']);
  assert.deepEqual([dave.errors, dave2.errors, erin.errors, again.errors].flat(), []);
  await Promise.all([dave, dave2, erin, again].map((p) => p.context().close()));
});

test('history loads older pages as the user scrolls up', async () => {
  const gina = await device(browser, 'gina');
  await chatWith(gina, 'hank');
  const n = 45;
  for (let i = 1; i <= n; i++) await send(gina, `m${String(i).padStart(2, '0')}`);
  const hank = await device(browser, 'hank');
  const seen = await until(hank, 'gina', (c) => c.unread === n, `${n} unread`);
  assert.equal(seen.badge, String(n));
  await conv(hank, 'gina').click();
  await waitUntil(hank, () => document.querySelectorAll('#messages li.msg').length >= 20);
  const first = await messages(hank).count();
  assert.ok(first < n, `a first page, not everything: ${first}`);
  assert.equal(await messages(hank).last().locator('.text').textContent(), `m${n}`);
  // Scroll to the top until the beginning is reached.
  for (let shown = first; shown < n;) {
    await hank.evaluate(() => { document.querySelector('#messages').scrollTop = 0; });
    await waitUntil(hank, (k) => document.querySelectorAll('#messages li.msg').length > k, shown);
    shown = await messages(hank).count();
  }
  const texts = await messages(hank).locator('.text').allTextContents();
  assert.deepEqual(texts, Array.from({ length: n }, (_, i) => `m${String(i + 1).padStart(2, '0')}`));
  await hank.locator('#messages li.top', { hasText: 'Beginning' }).waitFor();
  await until(hank, 'gina', (c) => c.unread === 0, 'read');
  assert.deepEqual([gina.errors, hank.errors].flat(), []);
  await Promise.all([gina, hank].map((p) => p.context().close()));
});

test('a wrong password is reported on the login form', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE}/app/`);
  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'wrong');
  await page.click('form#login button[type=submit]');
  await page.locator('#status', { hasText: 'Login failed' }).waitFor({ timeout: TIMEOUT });
  const text = await page.locator('#status').textContent();
  // The server's own words (error_description), once.
  assert.match(text, /^Login failed: [^:]*password[^:]*$/i, text);
  assert.equal(await page.inputValue('input[name=user]'), 'alice', 'the user name stays');
  assert.equal(await page.locator('#me').count(), 0);
  await shot(page, '4-wrong-password');
  await context.close();
});

test('a group chat: started by its id, listed with unread for the members, replies reach the open group', async () => {
  const gid = await createGroup('ivan', ['judy']);
  const ivan = await device(browser, 'ivan');
  const judy = await device(browser, 'judy');
  await chatWith(ivan, `#${gid}`);
  await send(ivan, 'hello team');
  const seen = await until(judy, gid, (c) => c.unread === 1, 'one unread in the group');
  assert.equal(seen.last, 'hello team');
  assert.equal(await conv(judy, gid).getAttribute('data-type'), 'groupChat');
  await conv(judy, gid).click();
  await waitUntil(judy, () => document.querySelectorAll('#messages li.msg').length === 1);
  await until(judy, gid, (c) => c.unread === 0, 'read once opened');
  await send(judy, 'hi ivan');
  await waitUntil(ivan, () => [...document.querySelectorAll('#messages li.msg .text')].some((t) => t.textContent === 'hi ivan'));
  assert.deepEqual(await messages(ivan).locator('.from').allTextContents(), ['ivan', 'judy']);
  assert.deepEqual([ivan.errors, judy.errors].flat(), []);
  await Promise.all([ivan, judy].map((p) => p.context().close()));
});
