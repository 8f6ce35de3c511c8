'use strict';
// Cluster mode under test: N roamd nodes sharing one PostgreSQL database (a fresh one per run,
// dropped at the end) and, when the binary has the flag, one NATS server. Every node is a
// Roamd (lib/roamd.js) with its own temp data dir, port 0, node id 1..N, the same app key
// (unique per run, so nothing of another run shares its NATS subjects) and the same admin
// client id/secret.
//
// Environment (the names scripts/services-check.sh uses):
//   ROAM_TEST_DATABASE_URL  a PostgreSQL server's URL (default postgres://postgres@127.0.0.1:5432/test):
//                           its server and credentials are used, its database name is not (each
//                           run makes its own through the maintenance database `postgres`)
//   ROAM_TEST_NATS_URL      NATS (default nats://127.0.0.1:4222); `off`: the nodes get no --nats-url
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const { Roamd, makeDataDir, BIN, CLIENT_ID, CLIENT_SECRET } = require('./roamd');
const { Device } = require('./devices');

const PG_URL = process.env.ROAM_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.ROAM_TEST_NATS_URL || 'nats://127.0.0.1:4222';
let clusters = 0;

// PG_URL with another database.
function pgUrl(db) {
  const u = new URL(PG_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

// psql -c SQL against the maintenance database; resolves with stdout, rejects with stderr.
function psql(sql, db = 'postgres') {
  return new Promise((resolve, reject) => {
    execFile('psql', ['-d', pgUrl(db), '-w', '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
      { timeout: 30000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`psql ${JSON.stringify(sql)}: ${(stderr || err.message).trim()}`));
        else resolve(stdout);
      });
  });
}

// Whether the binary knows a flag (from its --help), e.g. '--nats-url'.
let helpText;
function binaryHasFlag(flag) {
  if (helpText === undefined) {
    try {
      helpText = require('node:child_process').execFileSync(BIN, ['--help'], { encoding: 'utf8', timeout: 20000 });
    } catch (e) {
      helpText = String((e && e.stdout) || '');
    }
  }
  return new RegExp(`${flag}\\b`).test(helpText);
}

// A node's panics and one-line errors (which a backtrace would push out of the log tail).
function keyLines(node) {
  const out = [];
  node.log.forEach((l, i) => {
    if (/panicked at|^roamd: /.test(l.line)) out.push(l.line, ...(/panicked at/.test(l.line) && node.log[i + 1] ? [node.log[i + 1].line] : []));
  });
  return out.length ? ` errors:\n  ${out.join('\n  ')}\n---` : '';
}

class Cluster {
  constructor({ nodes = 3 } = {}) {
    clusters++;
    this.size = nodes;
    this.db = `roam_e2e_${process.pid}_${clusters}`;
    this.databaseUrl = pgUrl(this.db);
    this.appKey = `e2e${process.pid}n${clusters}#cluster`;
    this.nats = NATS_URL !== 'off' && binaryHasFlag('--nats-url') ? NATS_URL : null;
    this.nodes = []; // Roamd, index i = node id i+1
    this.devices = [];
    this.dataDirs = [];
    this.dbCreated = false;
  }

  // The flags of node `id` besides those every Roamd gets.
  nodeArgs(id) {
    const args = ['--storage', 'postgres', '--database-url', this.databaseUrl, '--node-id', String(id)];
    if (this.nats) args.push('--nats-url', this.nats);
    return args;
  }

  // Makes the database and starts the nodes; a failure carries the nodes' logs.
  async start() {
    try {
      await this._start();
    } catch (e) {
      e.message += `\n${this.diagnostics()}`;
      e.stack = `${e.stack}\n${this.diagnostics()}`;
      throw e;
    }
    return this;
  }

  async _start() {
    await psql(`CREATE DATABASE ${this.db}`);
    this.dbCreated = true;
    // Node 1 first: it applies the schema; then the others at once.
    this.nodes.push(this.makeNode(1));
    await this.nodes[0].start();
    const rest = [];
    for (let id = 2; id <= this.size; id++) rest.push(this.makeNode(id));
    this.nodes.push(...rest);
    await Promise.all(rest.map((n) => n.start()));
  }

  makeNode(id) {
    const dir = makeDataDir();
    this.dataDirs.push(dir);
    const node = new Roamd(dir, { appKey: this.appKey, args: this.nodeArgs(id) });
    node.nodeId = id;
    return node;
  }

  node(id) { return this.nodes[id - 1]; }

  // Replace node `id` (e.g. after SIGKILL) with a fresh process on the same node id (new data dir, new port).
  async restart(id) {
    const n = this.makeNode(id);
    n.log.push(...this.node(id).log.map((l) => ({ ...l, line: `(earlier process) ${l.line}` })));
    this.nodes[id - 1] = n;
    await n.start();
    return n;
  }

  // Runs roamd for node `id`'s flags (another process, a fresh data dir) to its exit:
  // {code, signal, stdout, stderr}; SIGKILLed if it is still running after timeoutMs.
  runToExit(id, timeoutMs = 20000) {
    const dir = makeDataDir();
    this.dataDirs.push(dir);
    const args = ['--listen', '127.0.0.1:0', '--data-dir', dir, '--app-key', this.appKey,
      '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, ...this.nodeArgs(id)];
    return new Promise((resolve) => {
      const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c) => { stdout += c; });
      p.stderr.on('data', (c) => { stderr += c; });
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr, args }); });
    });
  }

  // The SDK options of a device meant for node `id`. E2E_CLUSTER_ONE_NODE=1 puts every device on
  // node 1 instead (REST calls still go to the node named): a check of the suite itself, whose
  // tests must then pass whatever the nodes' cross-node signalling does.
  deviceOptions(id) {
    return this.node(process.env.E2E_CLUSTER_ONE_NODE ? 1 : id).sdkOptions();
  }

  // A new SDK device process connected to node `id` (not logged in).
  async device(id, label) {
    const d = await Device.start(label, this.deviceOptions(id));
    d.nodeId = id;
    this.devices.push(d);
    return d;
  }

  // A device on node `id` logged in as `user`, with a token issued by node `tokenFrom`
  // (default the same node); waits for onConnected.
  async login(id, user, label = `${user}@${id}`, { tokenFrom = id, password = 'pw' } = {}) {
    const token = await this.node(tokenFrom).userToken(user, password);
    const d = await this.device(id, label);
    await d.open({ user, accessToken: token });
    await d.waitFor('onConnected', () => true, 10000);
    return d;
  }

  // Ends the devices made since `mark` (an index into this.devices).
  async dropDevices(mark = 0) {
    const gone = this.devices.splice(mark);
    await Promise.all(gone.map((d) => d.kill().catch(() => {})));
  }

  diagnostics(devices = this.devices) {
    return [
      `--- cluster: database ${this.db}, app key ${this.appKey}, NATS ${this.nats || '(not passed: the binary has no --nats-url)'}`,
      ...this.nodes.map((n) => `--- node ${n.nodeId} (port ${n.port})${keyLines(n)} log tail:\n${n.logTail(80) || '(empty)'}`),
      ...devices.map((d) => d.diagnostics()),
    ].join('\n');
  }

  async stop() {
    await this.dropDevices(0);
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => {})));
    if (this.dbCreated && !process.env.E2E_KEEP_DATA) {
      await psql(`DROP DATABASE IF EXISTS ${this.db} WITH (FORCE)`).catch((e) => process.stderr.write(`cluster: ${e.message}\n`));
    }
    if (!process.env.E2E_KEEP_DATA) for (const d of this.dataDirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

module.exports = { Cluster, psql, binaryHasFlag };
