// The connection to roamd through the official SDK (easemob-websdk, unmodified). The server is
// the page's own origin (roamd serves this page at /app) and the app key comes from roamd's
// /app/config.json; a query string (?server=…&appKey=…) overrides both, e.g. for `npm run dev`.
import EC from 'easemob-websdk';

try {
  EC.logger.setLevel(5); // the SDK's own console logging, off
} catch (_) { /* an SDK without this logger: keep its default */ }

/** Where the server is and which app: {apiUrl, wsUrl, appKey}. */
export async function serverOptions(location = window.location) {
  const query = new URLSearchParams(location.search);
  const apiUrl = (query.get('server') || location.origin).replace(/\/$/, '');
  let appKey = query.get('appKey');
  if (!appKey) {
    const res = await fetch(new URL('config.json', `${apiUrl}/app/`));
    if (!res.ok) throw new Error(`${res.status} from /app/config.json`);
    appKey = (await res.json()).appKey;
  }
  const ws = new URL(apiUrl);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.pathname = '/websocket';
  return { apiUrl, wsUrl: ws.toString(), appKey };
}

/** A readable line for an error the SDK rejected with (its objects are not Errors). */
export function errorText(e) {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  let detail = e.data && (e.data.error_description || e.data.message);
  if (!detail && e.data && typeof e.data.data === 'string') {
    try { detail = JSON.parse(e.data.data).error_description; } catch (_) { /* not JSON */ }
  }
  const parts = [e.message, detail].filter(Boolean);
  return [...new Set(parts)].join(': ') || JSON.stringify(e);
}

/** One logged-in user: the SDK connection and the calls the page makes. */
export class Client {
  constructor(options, handlers) {
    this.conn = new EC.connection({
      appKey: options.appKey,
      url: options.wsUrl,
      apiUrl: options.apiUrl,
      isHttpDNS: false,
      delivery: false,
    });
    this.conn.addEventHandler('page', handlers);
    this.user = null;
  }

  async open(user, pwd) {
    await this.conn.open({ user, pwd });
    this.user = user.toLowerCase();
  }

  close() {
    this.conn.close();
  }

  /** One page of the server's conversation list (newest activity first). */
  async conversations(cursor = '') {
    const res = await this.conn.getServerConversations({ pageSize: 50, cursor });
    return { conversations: res.data.conversations, cursor: res.data.cursor };
  }

  /** History older than `cursor` (a message id; -1 for the newest), newest first. */
  history(targetId, chatType, cursor) {
    return this.conn.getHistoryMessages({ targetId, chatType, pageSize: 20, cursor, searchDirection: 'up' });
  }

  /** Sends a text; resolves once the server stored it, with its server id. */
  async sendText(to, chatType, msg) {
    const message = EC.message.create({ type: 'txt', chatType, to, msg });
    const ack = await this.conn.send(message);
    return { id: String(ack.serverMsgId), from: this.user, to, msg, time: Date.now(), chatType };
  }

  /** The conversation read ack: everything in the conversation is read, on every device. */
  readAck(to, chatType) {
    return this.conn.send(EC.message.create({ type: 'channel', chatType, to }));
  }

  pin(conversationId, conversationType, isPinned) {
    return this.conn.pinConversation({ conversationId, conversationType, isPinned });
  }

  mark(conversationId, conversationType, mark, on) {
    const arg = { conversations: [{ conversationId, conversationType }], mark };
    return on ? this.conn.addConversationMark(arg) : this.conn.removeConversationMark(arg);
  }

  deleteConversation(channel, chatType) {
    return this.conn.deleteConversation({ channel, chatType, deleteRoam: true });
  }

  deleteMessage(targetId, chatType, id) {
    return this.conn.removeHistoryMessages({ targetId, chatType, messageIds: [id] });
  }
}
