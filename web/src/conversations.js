// The conversation list: what the server's list says (unread, pins, marks, last message), kept
// current by live messages and by the user's other devices' changes.
import { h, preview, when } from './dom.js';

/** The marks the page toggles: Easemob's marks are numbers 0–19; the page names one. */
export const STAR = 0;

export class Conversations {
  constructor(root, actions) {
    this.root = root;
    this.actions = actions; // {open(id, type)}
    this.items = new Map(); // id -> {id, type, unread, pinned, pinnedAt, marks, last, time}
    this.cursor = '';
    this.selected = null;
  }

  /** Replaces the list with the server's (first page; later pages with `more`). */
  async load(client) {
    const { conversations, cursor } = await client.conversations('');
    this.items.clear();
    this.add(conversations);
    this.cursor = cursor;
    this.render();
  }

  async more(client) {
    const { conversations, cursor } = await client.conversations(this.cursor);
    this.add(conversations);
    this.cursor = cursor;
    this.render();
  }

  add(conversations) {
    for (const c of conversations) {
      this.items.set(c.conversationId, {
        id: c.conversationId,
        type: c.conversationType,
        unread: c.unReadCount || 0,
        pinned: !!c.isPinned,
        pinnedAt: Number(c.pinnedTime || 0),
        marks: c.marks || [],
        last: preview(c.lastMessage),
        time: Number((c.lastMessage && c.lastMessage.time) || 0),
        lastId: idOf(c.lastMessage && c.lastMessage.id),
      });
    }
  }

  get(id) {
    return this.items.get(id);
  }

  /** A conversation the list does not have yet (a new chat, or a message from a new peer). */
  ensure(id, type) {
    if (!this.items.has(id)) {
      this.items.set(id, { id, type, unread: 0, pinned: false, pinnedAt: 0, marks: [], last: '', time: 0, lastId: 0n });
    }
    return this.items.get(id);
  }

  /**
   * A message arrived or was sent in conversation `id`. One the server's list already counted
   * (a message the device was owed from before the list was loaded, delivered after it; server
   * ids grow with time) changes nothing.
   */
  message(id, type, m, unread) {
    const c = this.ensure(id, type);
    const mid = idOf(m.id);
    if (mid && mid <= c.lastId) return;
    if (mid) c.lastId = mid;
    c.last = preview(m);
    c.time = Number(m.time || Date.now());
    if (unread) c.unread += 1;
    this.render();
  }

  read(id) {
    const c = this.items.get(id);
    if (c && c.unread) {
      c.unread = 0;
      this.render();
    }
  }

  remove(id) {
    this.items.delete(id);
    this.render();
  }

  select(id) {
    this.selected = id;
    this.render();
  }

  /** Pinned first (latest pin on top), then by last activity. */
  sorted() {
    return [...this.items.values()].sort((a, b) =>
      (b.pinned - a.pinned) || (b.pinned ? b.pinnedAt - a.pinnedAt : 0) || (b.time - a.time));
  }

  render() {
    const list = this.sorted().map((c) => h('li.conv', {
      dataset: { id: c.id, type: c.type, pinned: String(c.pinned), unread: String(c.unread) },
      className: `conv${c.id === this.selected ? ' selected' : ''}`,
      onclick: () => this.actions.open(c.id, c.type),
    },
    h('div.row',
      h('span.name', {}, c.type === 'groupChat' ? `# ${c.id}` : c.id),
      c.pinned && h('span.pin', { title: 'pinned' }, 'pinned'),
      c.marks.map((m) => h('span.mark', { dataset: { mark: String(m) }, title: `mark ${m}` }, m === STAR ? '★' : `#${m}`)),
      h('span.time', {}, c.time ? when(c.time) : ''),
    ),
    h('div.row',
      h('span.last', {}, c.last),
      c.unread > 0 && h('span.badge', { title: `${c.unread} unread` }, String(c.unread)),
    )));
    const empty = list.length === 0 && h('li.empty', {}, 'No conversations yet: start one above.');
    this.root.replaceChildren(...list, empty || '');
    const more = document.querySelector('#more-conversations');
    if (more) more.hidden = !this.cursor;
  }
}

/** A server message id as a number that keeps its 64 bits (0n when there is none). */
function idOf(id) {
  try {
    return id ? BigInt(id) : 0n;
  } catch (_) {
    return 0n;
  }
}
