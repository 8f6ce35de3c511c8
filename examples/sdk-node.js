// The Easemob Web SDK expects a browser; these stand-ins let it run in Node (a browser needs
// none of this: `new EC.connection({...})` and `conn.open(...)` are the whole set-up).
'use strict';
const store = new Map();
global.self = global;
global.navigator = { userAgent: 'node', onLine: true };
global.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};
global.WebSocket = require('ws');
global.window = { WebSocket: global.WebSocket, localStorage: global.localStorage };
global.XMLHttpRequest = require('xhr2');
// The SDK stops its timers when the page unloads (a `beforeunload` listener); Node has no
// page, so without this a script would never exit. `close()` below plays the unload.
const unloadListeners = [];
global.addEventListener = (type, listener) => {
  if (type === 'beforeunload') unloadListeners.push(listener);
};
global.removeEventListener = (type, listener) => {
  const i = unloadListeners.indexOf(listener);
  if (type === 'beforeunload' && i >= 0) unloadListeners.splice(i, 1);
};
global.window.addEventListener = global.addEventListener;
global.window.removeEventListener = global.removeEventListener;
const sdk = require('easemob-websdk');
const EC = sdk.default || sdk;
EC.logger.setLevel(5); // quiet

const server = (process.env.ROAM_SERVER || 'http://127.0.0.1:5280').replace(/\/+$/, '');
const appKey = process.env.ROAM_APP_KEY || 'roam#demo';

// Logs `user` in; resolves to { EC, conn } with the connection open.
async function connect(user, pwd, handlers = {}) {
  const conn = new EC.connection({
    appKey,
    isHttpDNS: false,
    url: `${server.replace(/^http/, 'ws')}/websocket`,
    apiUrl: server,
  });
  conn.addEventHandler('example', handlers);
  try {
    await conn.open({ user, pwd });
  } catch (e) {
    close(conn);
    throw new Error(`cannot log in to ${server} as ${user}: ${describe(e)}`);
  }
  return { EC, conn };
}

// Closes the connection and stops the SDK's timers, so that Node can exit.
function close(conn) {
  conn.close();
  for (const listener of unloadListeners.splice(0)) listener();
}

// The SDK rejects with a plain object ({type, message, data}), not an Error: say what it holds.
function describe(e) {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object') {
    let detail = e.message || '';
    if (!detail && e.data) detail = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    return `${detail || 'failed'} (SDK error type ${e.type})`;
  }
  return String(e);
}

module.exports = { EC, connect, close, describe };
