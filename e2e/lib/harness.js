'use strict';
// Per-test scenario: a fresh roamd (own temp data dir, port 0) plus SDK device processes,
// torn down afterwards. On failure the error message gets roamd's log and every device's
// events appended, so a failing run explains itself.
const fs = require('node:fs');
const { Roamd, makeDataDir } = require('./roamd');
const { Device } = require('./devices');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Scenario {
  constructor() {
    this.dataDir = makeDataDir();
    this.server = new Roamd(this.dataDir);
    this.devices = [];
  }

  async start() { await this.server.start(); return this; }

  // A new SDK device process (not logged in yet).
  async device(label) {
    const d = await Device.start(label, this.server.sdkOptions());
    this.devices.push(d);
    return d;
  }

  // A new device logged in as `user` with a REST-issued token; waits for onConnected.
  async login(user, label = user, password = 'pw') {
    const token = await this.server.userToken(user, password);
    const d = await this.device(label);
    await d.open({ user, accessToken: token });
    await d.waitFor('onConnected', () => true, 5000);
    return d;
  }

  diagnostics() {
    return [
      `--- roamd (data dir ${this.dataDir}) log tail:\n${this.server.logTail(150) || '(empty)'}`,
      ...this.devices.map((d) => d.diagnostics()),
    ].join('\n');
  }

  async teardown() {
    await Promise.all(this.devices.map((d) => d.kill().catch(() => {})));
    await this.server.stop().catch(() => {});
    if (!process.env.E2E_KEEP_DATA) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function asError(e) {
  if (e instanceof Error) return e;
  const err = new Error(`rejected with ${JSON.stringify(e)}`);
  err.rejection = e;
  return err;
}

// test('name', scenario(async (s) => { ... }))
function scenario(fn) {
  return async (t) => {
    const s = new Scenario();
    try {
      await s.start();
      await fn(s, t);
    } catch (e) {
      const err = asError(e);
      const gaps = [...new Set(s.devices.flatMap((d) => d.gaps))];
      if (gaps.length) {
        // The test used an SDK call the selected version cannot make (sdk-version.js): its
        // failure says nothing about the server. Reported as a skip with the reason and the error.
        t.skip(`${gaps.join('; ')}; failed after that with: ${String(err.message).split('\n')[0].slice(0, 240)}`);
        return;
      }
      const diag = `\n======== diagnostics ========\n${s.diagnostics()}\n=============================`;
      // The reporters print err.stack (which already embeds the message): append there.
      err.stack = `${err.stack || err.message}\n${diag}`;
      throw err;
    } finally {
      await s.teardown();
    }
  };
}

// Expect a promise to reject; returns the rejection value (an SDK error object).
async function rejection(promise, what) {
  let value;
  try { value = await promise; } catch (e) { return e; }
  throw new Error(`${what}: expected a rejection, but it resolved with ${JSON.stringify(value)}`);
}

module.exports = { scenario, Scenario, sleep, rejection };
