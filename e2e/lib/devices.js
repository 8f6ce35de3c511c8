'use strict';
// Parent-side handle of one SDK device process (lib/device.js).
const { fork } = require('node:child_process');
const path = require('node:path');
const sdkVersion = require('./sdk-version');

const WORKER = path.join(__dirname, 'device.js');
const short = (v, n = 300) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s && s.length > n ? s.slice(0, n) + '…' : s;
};

class Device {
  constructor(label) {
    this.label = label;
    this.events = []; // {name, data, t}
    this.output = []; // stdout/stderr lines of the worker
    this.wire = []; // msync frames {dir, hex, t}, only with E2E_WIRE=1
    this.resource = undefined;
    this._seq = 0;
    this._pending = new Map();
    this._waiters = new Set();
    this.exited = false;
    this.gaps = []; // calls the selected SDK version lacks, see invoke()
  }

  static async start(label, sdkOptions) {
    const d = new Device(label);
    await d._spawn();
    await d.call('init', { options: sdkOptions }, 10000);
    return d;
  }

  _spawn() {
    const child = fork(WORKER, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: process.env });
    this.child = child;
    for (const s of ['stdout', 'stderr']) {
      child[s].setEncoding('utf8');
      child[s].on('data', (c) => {
        for (const line of c.split('\n')) if (line.trim()) this.output.push(`${s}: ${line}`);
        if (this.output.length > 500) this.output.splice(0, this.output.length - 500);
        if (process.env.E2E_SDK_LOG) process.stderr.write(`[${this.label}] ${c}`);
      });
    }
    this.exitPromise = new Promise((r) => child.once('exit', (code, signal) => {
      this.exited = true;
      for (const [, p] of this._pending) p.reject(new Error(`${this.label}: device process exited (code=${code}, signal=${signal})`));
      this._pending.clear();
      r({ code, signal });
    }));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.label}: device process not ready within 10 s`)), 10000);
      child.on('message', (m) => {
        if (m.kind === 'ready') { clearTimeout(t); resolve(); } else if (m.kind === 'reply') {
          const p = this._pending.get(m.id);
          if (p) { this._pending.delete(m.id); m.ok ? p.resolve(m.value) : p.reject(m.error); }
        } else if (m.kind === 'wire') {
          this.wire.push(m);
        } else if (m.kind === 'event') {
          const ev = { name: m.name, data: m.data, t: m.t };
          this.events.push(ev);
          for (const w of [...this._waiters]) w(ev);
        }
      });
      child.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  // Call an op in the worker. Resolves with its value; rejects with the SDK's error object
  // ({type, message, data}) or with an Error on timeout.
  call(op, args, timeoutMs = 10000) {
    if (this.exited) return Promise.reject(new Error(`${this.label}: device process is gone`));
    const id = ++this._seq;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this._pending.delete(id);
        const e = new Error(`${this.label}: ${op}(${short(args, 200)}) got no result within ${timeoutMs} ms`);
        e.timeout = true;
        reject(e);
      }, timeoutMs);
      this._pending.set(id, {
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      this.child.send({ id, op, args });
    });
  }

  async open(args, timeoutMs = 15000) {
    const r = await this.call('open', args, timeoutMs);
    this.resource = r.resource;
    this.user = args.user;
    return r.result;
  }

  // conn.send(message.create(msg)); by default 12 s, i.e. before the SDK's own 15 s send timeout.
  // opts.id: the client message id to send under (see device.js); default the SDK's own.
  send(msg, timeoutMs = 12000, opts = {}) { return this.call('send', { msg, id: opts.id }, timeoutMs); }

  async close() { return this.call('close', {}, 5000); }

  // conn[method](arg) in the device process (the SDK's REST/msync APIs: groups, chat rooms, ...).
  // By default 12 s: before the SDK's own 15 s request timeout would reconnect the socket.
  // A call this SDK version cannot express (sdk-version.js, `lacks`) is made all the same, and
  // remembered in `gaps` for the scenario's report.
  invoke(method, arg, timeoutMs = 12000) {
    const gap = sdkVersion.lacks(method, arg);
    if (gap && !this.gaps.includes(gap)) this.gaps.push(gap);
    return this.call('invoke', { method, arg }, timeoutMs);
  }

  hasMethod(method) { return this.call('hasMethod', { method }); }

  // The SDK's error-code table (EC.statusCode), e.g. {GROUP_NOT_JOINED: 602, ...}.
  statusCode() { return this.call('statusCode', {}); }

  // Close the SDK connection (LOGOUT + socket close) then end the process.
  async shutdown() {
    if (this.exited) return;
    try { await this.close(); } catch (_) { /* already closed */ }
    await this.kill();
  }

  async kill() {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }

  all(name, pred = () => true) {
    return this.events.filter((e) => e.name === name && pred(e.data)).map((e) => e.data);
  }

  // Resolves with the data of the first event `name` (already seen or future) that matches pred.
  waitFor(name, pred = () => true, timeoutMs = 5000) {
    const hit = this.events.find((e) => e.name === name && pred(e.data));
    if (hit) return Promise.resolve(hit.data);
    return new Promise((resolve, reject) => {
      const w = (ev) => {
        if (ev.name === name && pred(ev.data)) { this._waiters.delete(w); clearTimeout(t); resolve(ev.data); }
      };
      const t = setTimeout(() => {
        this._waiters.delete(w);
        reject(new Error(`${this.label}: no ${name} matching ${pred.toString()} within ${timeoutMs} ms; events so far: ${this.eventSummary()}`));
      }, timeoutMs);
      this._waiters.add(w);
    });
  }

  // Resolves with all matching events once at least `count` events `name` matching pred were seen.
  waitForCount(name, count, pred = () => true, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const cleanup = () => { clearTimeout(t); this._waiters.delete(check); };
      const check = () => {
        const got = this.all(name, pred);
        if (got.length >= count) { cleanup(); resolve(got); }
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.label}: expected ${count} ${name} events, got ${this.all(name, pred).length} within ${timeoutMs} ms; events so far: ${this.eventSummary()}`));
      }, timeoutMs);
      this._waiters.add(check);
      check();
    });
  }

  eventSummary(n = 40) {
    const evs = this.events.slice(-n).map((e) => `${e.name} ${short(e.data, 240)}`);
    return evs.length ? '\n    ' + evs.join('\n    ') : '(none)';
  }

  diagnostics() {
    return `--- device ${this.label} (user ${this.user}, resource ${this.resource}) events:${this.eventSummary(80)}\n` +
      (this.output.length ? `--- device ${this.label} output:\n${this.output.slice(-60).join('\n')}\n` : '') +
      (this.wire.length ? `--- device ${this.label} msync frames (hex):\n${this.wire.slice(-60).map((w) => `${w.t} ${w.dir} ${w.hex}`).join('\n')}\n` : '');
  }
}

module.exports = { Device };
