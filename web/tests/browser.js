// Debian's chromium driven by playwright-core (never a downloaded browser), and the steps every
// test takes in the page. The server is WEB_URL (scripts/web.sh starts roamd and seeds users).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const BASE = process.env.WEB_URL;
if (!BASE) throw new Error('WEB_URL is not set: run the browser tests with `bash scripts/web.sh`');
/** Generous: two cores shared by many processes. */
export const TIMEOUT = Number(process.env.WEB_TIMEOUT_MS || 20000);
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
mkdirSync(ARTIFACTS, { recursive: true });

/** A headless chromium; each `newContext` is a separate device (own storage, own SDK resource). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Closed network: no background connections, no component or sync downloads.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new device (browser context) logged in as `user` on the web chat. */
export async function device(browser, user, password = 'pw') {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${BASE}/app/`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await page.click('form#login button[type=submit]');
  await page.locator('#me', { hasText: user }).waitFor();
  return page;
}

export const conv = (page, id) => page.locator(`#conversations li.conv[data-id="${id}"]`);
export const messages = (page) => page.locator('#messages li.msg');

/** Opens (or starts) the conversation with `peer` (a user, or `#<group id>`) from the "chat with" box. */
export async function chatWith(page, peer) {
  await page.fill('input[name=peer]', peer);
  await page.press('input[name=peer]', 'Enter');
  await page.locator('#title', { hasText: peer.replace(/^#/, '') }).waitFor();
}

/** Sends `text` in the open conversation; resolves once the server acked it (it is shown). */
export async function send(page, text) {
  const before = await messages(page).count();
  await page.fill('input[name=text]', text);
  await page.press('input[name=text]', 'Enter');
  await waitUntil(page, (n) => document.querySelectorAll('#messages li.msg').length > n, before);
}

/** Waits (polling in the page) until `fn(arg)` is true there. */
export function waitUntil(page, fn, arg) {
  return page.waitForFunction(fn, arg, { timeout: TIMEOUT });
}

/** The conversation's attributes as the list shows them: {unread, pinned, marks, last}. */
export function listed(page, id) {
  return page.evaluate((id) => {
    const li = document.querySelector(`#conversations li.conv[data-id="${id}"]`);
    if (!li) return null;
    return {
      unread: Number(li.dataset.unread),
      badge: li.querySelector('.badge')?.textContent ?? null,
      pinned: li.dataset.pinned === 'true',
      marks: [...li.querySelectorAll('.mark')].map((m) => Number(m.dataset.mark)),
      last: li.querySelector('.last')?.textContent ?? '',
    };
  }, id);
}

/** The conversation ids in list order. */
export function order(page) {
  return page.evaluate(() => [...document.querySelectorAll('#conversations li.conv')].map((li) => li.dataset.id));
}

export function shot(page, name) {
  return page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Creates a group owned by `owner` with `members` over REST (admin credential WEB_ADMIN). */
export async function createGroup(owner, members) {
  const rest = `${BASE}/${(process.env.WEB_APP_KEY || 'roam#demo').replace('#', '/')}`;
  const [clientId, clientSecret] = (process.env.WEB_ADMIN || '').split(':');
  const post = async (path, body, token) => {
    const headers = { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    const res = await fetch(`${rest}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { access_token: token } = await post('/token', { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
  const created = await post('/chatgroups', { groupname: 'team', desc: 'web chat test', public: true, maxusers: 50, owner, members }, token);
  return created.data.groupid;
}
