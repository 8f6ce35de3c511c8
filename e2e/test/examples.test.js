'use strict';
// The README's examples (examples/send.js, examples/recv.js) run as a reader runs them, so
// that they cannot rot: they exit 0 on success, and a wrong password or a stopped server is
// one readable line and exit 1, not a hang or "The promise rejected with the reason #<e>".
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { scenario } = require('../lib/harness');
const { APP_KEY } = require('../lib/roamd');
const sdkVersion = require('../lib/sdk-version');

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');
// The examples pin the plain `easemob-websdk` package: run them once, with that version.
const skip = sdkVersion.version !== sdkVersion.DEFAULT_VERSION && `the examples use easemob-websdk ${sdkVersion.DEFAULT_VERSION}`;

// Runs `node examples/<script> ...args`; resolves to {code, stdout, stderr} or rejects after
// `timeoutMs` (an example that does not exit is the bug this test is for).
function run(script, args, server, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NODE_PATH: path.join(__dirname, '..', 'node_modules'), ROAM_SERVER: server, ROAM_APP_KEY: APP_KEY };
    const child = spawn(process.execPath, [path.join(EXAMPLES, script), ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('examples: send.js exits 0 after the ack and recv.js prints what arrives', { skip }, scenario(async (s) => {
  await s.server.createUsers([{ username: 'alice', password: 'pw' }, { username: 'bob', password: 'pw' }]);
  const offline = await run('send.js', ['alice', 'pw', 'bob', 'while you were away'], s.server.base);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /^stored and acked as \d+\n$/);

  const recv = run('recv.js', ['bob', 'pw', '2'], s.server.base);
  // recv.js gets the offline message at login, then the live one.
  await new Promise((r) => setTimeout(r, 1500));
  const live = await run('send.js', ['alice', 'pw', 'bob', 'live'], s.server.base);
  assert.equal(live.code, 0, live.stderr);
  const got = await recv;
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /alice: while you were away\n/);
  assert.match(got.stdout, /alice: live\n/);
}));

test('examples: a wrong password or a stopped server is one readable line and exit 1', { skip }, scenario(async (s) => {
  await s.server.createUsers({ username: 'alice', password: 'pw' });
  const wrong = await run('send.js', ['alice', 'nope', 'bob', 'x'], s.server.base);
  assert.equal(wrong.code, 1, wrong.stdout);
  assert.match(wrong.stderr, /^send\.js: cannot log in to http:\/\/127\.0\.0\.1:\d+ as alice: .*password.*\n$/);

  const base = s.server.base;
  await s.server.stop();
  const stopped = await run('send.js', ['alice', 'pw', 'bob', 'x'], base);
  assert.equal(stopped.code, 1, stopped.stdout);
  assert.match(stopped.stderr, /^send\.js: cannot log in to http:\/\/127\.0\.0\.1:\d+ as alice: /);
  assert.doesNotMatch(stopped.stderr, /#<|\[object Object\]/);
}));
