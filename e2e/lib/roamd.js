'use strict';
// Starts/stops the roamd binary under test and talks to its REST API with fetch.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ORG = 'easemob-demo';
const APP = 'roam';
const APP_KEY = `${ORG}#${APP}`;
const CLIENT_ID = 'e2e-admin';
const CLIENT_SECRET = 'e2e-secret';
const BIN = process.env.ROAMD_BIN || path.join(__dirname, '..', '..', 'target', 'debug', 'roamd');
const READY_TIMEOUT_MS = Number(process.env.ROAMD_READY_TIMEOUT_MS || 20000);
// How long to keep retrying when the binary is missing/busy/crashes before the ready line
// (the binary may be in the middle of a `cargo build`).
const SPAWN_RETRY_MS = Number(process.env.ROAMD_SPAWN_RETRY_MS || 15000);
const READY_RE = /^roamd listening on 127\.0\.0\.1:(\d+)\s*$/;
let seenBinary = false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function makeDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'roam-e2e-'));
}

class Roamd {
  // opts.appKey: 'org#app' (default APP_KEY); opts.args: extra flags appended to every start
  // (e.g. ['--storage', 'postgres', '--database-url', url, '--node-id', '1']).
  constructor(dataDir, opts = {}) {
    this.dataDir = dataDir;
    this.appKey = opts.appKey || APP_KEY;
    [this.org, this.app] = this.appKey.split('#');
    this.extraArgs = opts.args || [];
    this.proc = null;
    this.port = null;
    this.log = []; // [{stream, line}] of every run of this instance, for diagnostics
    this.exit = null; // Promise<{code, signal}> of the current process
    this.runs = 0;
  }

  get base() { return `http://127.0.0.1:${this.port}`; }
  get rest() { return `${this.base}/${this.org}/${this.app}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/websocket`; }
  sdkOptions() {
    return { appKey: this.appKey, isHttpDNS: false, url: this.wsUrl, apiUrl: this.base, delivery: false };
  }

  // Start (or restart) roamd on this.dataDir, port 0. Resolves once the ready line is seen.
  async start() {
    const deadline = Date.now() + SPAWN_RETRY_MS;
    let lastErr;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this._startOnce();
      } catch (e) {
        lastErr = e;
        // A missing binary is retried (briefly) only if it existed earlier in this run,
        // i.e. cargo is replacing it; if it never existed, fail at once.
        if (e.missing && (!seenBinary || Date.now() > deadline - SPAWN_RETRY_MS + 3000)) break;
        if (e.earlyExit && attempt < 3) { await sleep(1000); continue; }
        if (!e.retryable || Date.now() > deadline) break;
        await sleep(500);
      }
    }
    throw lastErr;
  }

  _startOnce() {
    if (!fs.existsSync(BIN)) {
      const e = new Error(`roamd binary not found at ${BIN}: build it with \`cargo build\` (or set ROAMD_BIN)`);
      e.retryable = true; // may be mid-rebuild
      e.missing = true;
      return Promise.reject(e);
    }
    seenBinary = true;
    this.runs++;
    const run = this.runs;
    const args = ['--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--app-key', this.appKey,
      '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, ...this.extraArgs];
    this.log.push({ stream: 'note', line: `[run ${run}] ${BIN} ${args.join(' ')}` });
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { RUST_BACKTRACE: '1', ...process.env } });
    this.proc = proc;
    this.exit = new Promise((resolve) => proc.once('exit', (code, signal) => {
      this.log.push({ stream: 'note', line: `[run ${run}] exited code=${code} signal=${signal}` });
      resolve({ code, signal });
    }));
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err, port) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) { try { proc.kill('SIGKILL'); } catch (_) { /* gone */ } reject(err); } else resolve(port);
      };
      const timer = setTimeout(() => finish(new Error(`roamd did not print "roamd listening on 127.0.0.1:PORT" within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      const lines = (stream, onLine) => {
        let buf = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1); }
        });
        stream.on('end', () => { if (buf) onLine(buf); });
      };
      lines(proc.stdout, (line) => {
        this.log.push({ stream: 'stdout', line });
        const m = READY_RE.exec(line);
        if (m) { this.port = Number(m[1]); finish(null, this.port); }
      });
      lines(proc.stderr, (line) => {
        this.log.push({ stream: 'stderr', line });
        if (process.env.E2E_ROAMD_LOG) process.stderr.write(`[roamd] ${line}\n`);
      });
      proc.once('error', (e) => {
        const err = new Error(`cannot spawn roamd (${BIN}): ${e.message}`);
        err.retryable = ['ENOENT', 'ETXTBSY', 'EACCES', 'ENOEXEC'].includes(e.code);
        finish(err);
      });
      proc.once('exit', (code, signal) => {
        const err = new Error(`roamd exited before it was ready (code=${code}, signal=${signal})`);
        err.earlyExit = true; // e.g. a half-written binary: retried twice
        finish(err);
      });
    });
  }

  // SIGTERM and wait for the exit; returns {code, signal}.
  async stop(timeoutMs = 5000) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exit ? this.exit : null;
    this.proc.kill('SIGTERM');
    let timer;
    const r = await Promise.race([this.exit, new Promise((res) => { timer = setTimeout(() => res(null), timeoutMs); })]);
    clearTimeout(timer);
    if (r) return r;
    this.log.push({ stream: 'note', line: `roamd did not exit within ${timeoutMs} ms of SIGTERM: SIGKILL` });
    this.proc.kill('SIGKILL');
    await this.exit;
    return { code: null, signal: 'SIGKILL', timedOut: true };
  }

  async kill() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exit;
    this.proc.kill('SIGKILL');
    return this.exit;
  }

  logTail(n = 200) {
    return this.log.slice(-n).map((l) => `${l.stream}: ${l.line}`).join('\n');
  }

  // ---------- REST ----------
  async http(method, p, { body, token } = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${this.rest}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch (_) { json = undefined; }
    return { status: res.status, json, text };
  }

  async adminToken() {
    if (this._admin && this._adminPort === this.port) return this._admin;
    const r = await this.http('POST', '/token', { body: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET } });
    if (r.status !== 200 || !r.json || !r.json.access_token) throw new Error(`admin token: HTTP ${r.status} ${r.text}`);
    this._admin = r.json.access_token;
    this._adminPort = this.port;
    return this._admin;
  }

  async createUsers(users) {
    const token = await this.adminToken();
    return this.http('POST', '/users', { body: users, token });
  }

  // Create users ({username,password} or [names] with password "pw"); throws unless 200.
  async ensureUsers(...names) {
    const body = names.map((n) => (typeof n === 'string' ? { username: n, password: 'pw' } : n));
    const r = await this.createUsers(body.length === 1 ? body[0] : body);
    if (r.status !== 200) throw new Error(`create users ${JSON.stringify(body)}: HTTP ${r.status} ${r.text}`);
    return r.json;
  }

  async userToken(username, password = 'pw') {
    const r = await this.http('POST', '/token', { body: { grant_type: 'password', username, password } });
    if (r.status !== 200 || !r.json || !r.json.access_token) throw new Error(`user token for ${username}: HTTP ${r.status} ${r.text}`);
    return r.json.access_token;
  }
}

module.exports = { Roamd, makeDataDir, ORG, APP, APP_KEY, CLIENT_ID, CLIENT_SECRET, BIN };
