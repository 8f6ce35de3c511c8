'use strict';
// Which easemob-websdk the device processes load, and the Node stand-ins each version needs.
//
// The suite runs unmodified against every version in VERSIONS (scripts/test.sh runs it once per
// version). `E2E_SDK=<version>` selects one (default 4.21.1, the plain `easemob-websdk`
// dependency); the others are installed beside it as npm aliases (`easemob-websdk-<version>`,
// see package.json). Everything that differs between versions lives here, so device.js stays
// version-blind. None of it is in the server: roamd serves every version the same way
// (docs/protocol.md, "SDK versions").

// Per version:
//   pkg           the npm package (alias) to require
//   documentStub  the SDK calls document.addEventListener (listenBrowserVisibility) inside
//                 open(); without a `document` in Node, open() rejects with a ReferenceError
//                 although the socket is up (4.8 up to 4.17; 4.21 checks for it first)
//   sockjs        the SDK connects with its bundled SockJS client (4.7/4.8): the url must be
//                 http(s)://host/ws (a ws:// url makes the SockJS constructor throw inside
//                 open(), after open() has resolved), and open() resolves before the socket is
//                 up, so failures arrive only as onError (see open() below); SockJS fetches
//                 /ws/info only with a CORS-capable XMLHttpRequest (see loadSdk)
//   fixedDeviceId the SDK keeps no device id of its own: every login makes a new resource
//                 `webim_random_<ms>`; 4.13+ keep `webim_web_<ms>` per browser (localStorage),
//                 so one device logs in again with the same resource. The harness passes the
//                 same kind of per-process id as `deviceId` (the SDK then uses `webim_<deviceId>`).
//   lacks         SDK calls the suite makes that this version cannot express at all: the
//                 option is not in the SDK (so the request on the wire is the same as without
//                 it) or the SDK refuses the argument itself. No server can pass those checks;
//                 a test that fails after making such a call is reported as skipped, with the
//                 reason and the failure (see harness.js). A test that passes still passes.
const NO_EMPTY_CONVERSATIONS = {
  method: 'getServerConversations',
  when: (arg) => !!(arg && arg.includeEmptyConversations),
  what: 'getServerConversations({includeEmptyConversations}) (no needEmptySession before 4.17)',
};
const NO_ROOM_HISTORY_DELETE = {
  method: 'removeHistoryMessages',
  when: (arg) => !!(arg && arg.chatType === 'chatRoom'),
  what: 'removeHistoryMessages of a chat room (4.7 refuses chatType "chatRoom")',
};
const VERSIONS = {
  '4.21.1': { pkg: 'easemob-websdk', documentStub: false, sockjs: false, fixedDeviceId: false, lacks: [] },
  '4.13.0': { pkg: 'easemob-websdk-4.13.0', documentStub: true, sockjs: false, fixedDeviceId: false, lacks: [NO_EMPTY_CONVERSATIONS] },
  '4.7.0': {
    pkg: 'easemob-websdk-4.7.0', documentStub: false, sockjs: true, fixedDeviceId: true, lacks: [NO_EMPTY_CONVERSATIONS, NO_ROOM_HISTORY_DELETE],
  },
};
const DEFAULT_VERSION = '4.21.1';

/** The selected version (E2E_SDK, default 4.21.1); throws on a version the harness does not know. */
function selectedVersion() {
  const v = process.env.E2E_SDK || DEFAULT_VERSION;
  if (!VERSIONS[v]) throw new Error(`E2E_SDK=${v}: unknown SDK version (known: ${Object.keys(VERSIONS).join(', ')})`);
  return v;
}

const version = selectedVersion();
const traits = VERSIONS[version];

/**
 * Installs the version's extra browser globals, then requires it. Call after the common globals
 * (self, navigator, window, WebSocket, XMLHttpRequest, localStorage) are in place. Returns the
 * SDK namespace ({connection, message, logger, statusCode, ...}): 4.21 exports it at the top
 * level, older versions as `default`.
 */
function loadSdk() {
  if (traits.documentStub && typeof global.document === 'undefined') {
    global.document = { addEventListener() {}, removeEventListener() {}, visibilityState: 'visible', hidden: false };
  }
  if (traits.sockjs && !('withCredentials' in new global.XMLHttpRequest())) {
    // SockJS asks GET /ws/info only over an XHR that can do CORS ('withCredentials' in xhr, as
    // in every browser); xhr2 has no such property, and SockJS would instead wait 2 s for a
    // made-up info before every connect. xhr2 does not enforce CORS, so the flag is enough.
    const NodeXHR = global.XMLHttpRequest;
    global.XMLHttpRequest = class BrowserLikeXHR extends NodeXHR {
      constructor() {
        super();
        this.withCredentials = false;
      }
    };
  }
  const m = require(traits.pkg);
  return m.default || m;
}

/**
 * The `new connection(options)` options for this version: the suite's options are written for
 * 4.21 (`url: ws://host:port/websocket`); SockJS versions get `http://host:port/ws` instead,
 * and versions without a fixed device id get one per process.
 */
function connectionOptions(options) {
  const o = { ...options };
  if (traits.sockjs && typeof o.url === 'string') {
    const u = new URL(o.url);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    u.pathname = '/ws';
    o.url = u.toString().replace(/\/$/, '');
  }
  if (traits.fixedDeviceId && o.deviceId === undefined) o.deviceId = processDeviceId;
  return o;
}
// One per device process, kept across its connections, as a browser keeps its device id.
const processDeviceId = `web_${Date.now()}${String(process.pid).slice(-4)}`;

/**
 * conn.open(args) with the 4.13+ contract: resolves once logged in (onConnected), rejects with
 * the SDK's error ({type, message, ...}) otherwise. SockJS versions resolve open() at once (after
 * POST /token for a password) and report the login only through onConnected / onError, so for
 * them the result is held back until one of the two fires. Nothing else is changed: the value
 * open() resolves with, and the error objects, are the SDK's own (one gap filled, see below).
 */
async function open(conn, args) {
  if (!traits.sockjs) return conn.open(args);
  let settle;
  const outcome = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  outcome.catch(() => {}); // an onError after open() itself rejected is not news
  const key = `e2e-open-${Date.now()}`;
  conn.addEventHandler(key, {
    onConnected: () => settle.resolve(),
    onError: (e) => settle.reject(e),
  });
  try {
    let result;
    try {
      result = await conn.open(args);
    } catch (e) {
      // A failed password login (POST /token) rejects open() itself. 4.7 builds that rejection
      // from `error_description` of its own already-mapped REST error, where the server's
      // description sits in `message`: the rejection has no message. 4.13+ take `message`.
      if (e && typeof e === 'object' && e.message === undefined && e.data && typeof e.data.message === 'string') {
        e.message = e.data.message;
      }
      throw e;
    }
    await outcome;
    return result;
  } finally {
    conn.removeEventHandler(key);
  }
}

/** What `conn[method](arg)` needs that this version lacks (a sentence), or undefined. */
function lacks(method, arg) {
  const gap = traits.lacks.find((g) => g.method === method && g.when(arg));
  return gap && `easemob-websdk ${version} lacks ${gap.what}`;
}

module.exports = { VERSIONS, DEFAULT_VERSION, version, loadSdk, connectionOptions, open, lacks };
