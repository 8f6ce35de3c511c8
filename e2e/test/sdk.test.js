'use strict';
// Harness self-check, no server needed: the unmodified SDK loads in a device process.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Device } = require('../lib/devices');

test('the unmodified easemob-websdk 4.21.1 loads in a device process', async () => {
  assert.equal(require('easemob-websdk/package.json').version, '4.21.1');
  const d = await Device.start('sdk-check', {
    appKey: 'easemob-demo#roam', isHttpDNS: false, url: 'ws://127.0.0.1:9/websocket', apiUrl: 'http://127.0.0.1:9', delivery: false,
  });
  try {
    const info = await d.call('info', {});
    assert.equal(info.isOpened, false);
  } finally {
    await d.kill();
  }
});
