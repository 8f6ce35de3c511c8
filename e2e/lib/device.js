'use strict';
// One simulated client device: the real, unmodified easemob-websdk running in its own
// Node process (the SDK keeps its device resource in a process-global localStorage, so
// one process per device gives every device its own resource and its own SDK state).
// Driven by the parent over the IPC channel (see devices.js):
//   parent -> child  {id, op, args}
//   child  -> parent {kind:'reply', id, ok, value|error} | {kind:'event', name, data, t}

global.self = global;
if (typeof navigator === 'undefined') global.navigator = { userAgent: 'node', onLine: true };
const WS = require('ws');
const XHR = require('xhr2');

const store = new Map();
const localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
  clear: () => store.clear(),
};
// With E2E_WIRE=1 every msync frame (hex) is reported to the parent for diagnostics.
const WIRE = !!process.env.E2E_WIRE;
class TapWebSocket extends WS {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (ev) => wire('in', ev.data));
    this.addEventListener('close', (ev) => wire('close', Buffer.from(`${ev.code} ${ev.reason}`)));
  }
  send(data, ...rest) {
    wire('out', data);
    return super.send(data, ...rest);
  }
}
function wire(dir, data) {
  if (!WIRE || !process.connected) return;
  const buf = Buffer.isBuffer(data) ? data : data instanceof ArrayBuffer ? Buffer.from(data) : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(String(data));
  process.send({ kind: 'wire', dir, hex: buf.toString('hex'), t: Date.now() });
}
const SDKWebSocket = WIRE ? TapWebSocket : WS;
// The SDK treats itself as "web" iff typeof window !== 'undefined' && window.WebSocket.
global.window = { WebSocket: SDKWebSocket, localStorage, location: undefined, URL };
global.WebSocket = SDKWebSocket;
global.XMLHttpRequest = XHR;
global.localStorage = localStorage;

// The SDK version (E2E_SDK) and its own stand-ins: lib/sdk-version.js.
const sdkVersion = require('./sdk-version');
const EC = sdkVersion.loadSdk();
try {
  EC.logger.setLevel(process.env.E2E_SDK_LOG ? 0 : 5);
} catch (_) { /* logger API differs: keep the default */ }

const EVENTS = [
  'onConnected', 'onDisconnected', 'onReconnecting', 'onError',
  'onTextMessage', 'onCmdMessage', 'onCustomMessage', 'onLocationMessage',
  'onChannelMessage', 'onReadMessage', 'onDeliveredMessage', 'onReceivedMessage',
  'onOfflineMessageSyncStart', 'onOfflineMessageSyncFinish', 'onMultiDeviceEvent',
  'onMessage', 'onTokenWillExpire', 'onTokenExpired',
  'onGroupEvent', 'onChatroomEvent', 'onGroupChange', 'onChatroomChange',
];

// Make any SDK value safe for process.send (JSON): bigint/Long -> string, drop functions and cycles.
function plain(v) {
  if (v === undefined) return undefined;
  const seen = new WeakSet();
  try {
    return JSON.parse(JSON.stringify(v, (k, x) => {
      if (typeof x === 'bigint') return x.toString();
      if (typeof x === 'function') return undefined;
      if (x && typeof x === 'object') {
        if (seen.has(x)) return '[cycle]';
        seen.add(x);
      }
      return x;
    }));
  } catch (e) {
    return String(v);
  }
}

function errorOf(e) {
  if (e && typeof e === 'object' && ('type' in e || 'message' in e)) {
    return plain({ type: e.type, message: e.message, data: e.data, extraInfo: e.extraInfo, stack: e instanceof Error ? e.stack : undefined });
  }
  return { message: String(e) };
}

const post = (m) => { if (process.connected) process.send(m); };

let conn = null;
const ops = {
  async init({ options }) {
    conn = new EC.connection(sdkVersion.connectionOptions(options));
    const handlers = {};
    for (const name of EVENTS) handlers[name] = (data) => post({ kind: 'event', name, data: plain(data), t: Date.now() });
    conn.addEventHandler('e2e', handlers);
    // A run labelled with one version must not quietly test another.
    if (conn.version !== sdkVersion.version) throw new Error(`E2E_SDK=${sdkVersion.version} but the loaded SDK is ${conn.version}`);
    return { version: conn.version };
  },
  async open(args) {
    const r = await sdkVersion.open(conn, args);
    return { result: plain(r), resource: conn.clientResource, context: plain({ userId: conn.context && conn.context.userId }) };
  },
  // `id`: the message's client id (the SDK's own `id` field of the created message), to resend
  // a message under the id of an attempt whose answer never came; by default the SDK's own.
  async send({ msg, id }) {
    const m = EC.message.create(msg);
    if (id !== undefined) m.id = id;
    return plain(await conn.send(m));
  },
  async close() {
    const r = conn.close();
    if (r && typeof r.then === 'function') await r;
    return true;
  },
  // conn[method](arg): any SDK API that takes one argument and returns a value or a promise
  // (createGroup, getGroupInfo, joinChatRoom, ...). Resolves with the SDK's result (made plain).
  async invoke({ method, arg }) {
    if (!conn) throw new Error('init first');
    if (typeof conn[method] !== 'function') throw new Error(`conn.${method} is not a function in this SDK`);
    return plain(await conn[method](arg));
  },
  // Whether the SDK has a method (e.g. createGroupVNext), and the SDK's own error-code table.
  async hasMethod({ method }) { return !!conn && typeof conn[method] === 'function'; },
  async statusCode() { return plain(EC.statusCode); },
  async info() {
    return { resource: conn && conn.clientResource, isOpened: conn && typeof conn.isOpened === 'function' ? conn.isOpened() : undefined };
  },
};

process.on('message', async ({ id, op, args }) => {
  try {
    if (!ops[op]) throw new Error('unknown op ' + op);
    const value = await ops[op](args || {});
    post({ kind: 'reply', id, ok: true, value });
  } catch (e) {
    post({ kind: 'reply', id, ok: false, error: errorOf(e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (e) => process.stderr.write('unhandledRejection: ' + (e && e.stack || JSON.stringify(plain(e))) + '\n'));
post({ kind: 'ready', pid: process.pid });
