// The open conversation: its history, newest at the bottom, older pages loaded as the user
// scrolls up; sending; deleting single messages.
import { errorText } from './client.js';
import { h, when } from './dom.js';

export class Pane {
  constructor(root, client, actions) {
    this.root = root; // the #messages list
    this.client = client;
    this.actions = actions; // {status(text), sent(id, type, m), deleted(id)}
    this.id = null;
    this.type = null;
    this.messages = []; // oldest first
    this.cursor = -1;
    this.isLast = false;
    this.loading = null;
    root.addEventListener('scroll', () => {
      if (root.scrollTop < 40) this.older();
    });
  }

  /** Opens conversation `id`: its newest page, scrolled to the bottom. */
  async open(id, type) {
    this.id = id;
    this.type = type;
    this.messages = [];
    this.cursor = -1;
    this.isLast = false;
    this.loading = null;
    this.root.replaceChildren();
    await this.older();
    this.root.scrollTop = this.root.scrollHeight;
  }

  close() {
    this.id = null;
    this.messages = [];
    this.root.replaceChildren();
  }

  /**
   * The page before the oldest shown, kept in view where the user was reading. Pages keep
   * coming while the list does not fill its box, since then no scroll can ask for them.
   */
  older() {
    if (this.loading || this.isLast || !this.id) return this.loading;
    const id = this.id;
    this.loading = (async () => {
      try {
        const page = await this.client.history(id, this.type, this.cursor);
        if (id !== this.id) return;
        const fromBottom = this.root.scrollHeight - this.root.scrollTop;
        const known = new Set(this.messages.map((m) => m.id));
        const older = page.messages.filter((m) => !known.has(String(m.id))).map(plain).reverse();
        this.messages = [...older, ...this.messages];
        this.cursor = page.cursor;
        this.isLast = !!page.isLast || page.messages.length === 0;
        this.render();
        this.root.scrollTop = this.root.scrollHeight - fromBottom;
      } catch (e) {
        this.actions.status(`history: ${errorText(e)}`);
        this.isLast = true;
      } finally {
        this.loading = null;
      }
      if (!this.isLast && this.root.scrollHeight <= this.root.clientHeight) await this.older();
    })();
    return this.loading;
  }

  /** A message of this conversation arrived (or was sent from another device). */
  append(m) {
    const p = plain(m);
    if (this.messages.some((x) => x.id === p.id)) return;
    const atBottom = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 60;
    this.messages.push(p);
    this.render();
    if (atBottom || p.from === this.client.user) this.root.scrollTop = this.root.scrollHeight;
  }

  /** Messages deleted elsewhere (another device): `ids`, or all when not known. */
  async removed(ids) {
    if (ids && ids.length) {
      const gone = new Set(ids.map(String));
      this.messages = this.messages.filter((m) => !gone.has(m.id));
      this.render();
    } else if (this.id) {
      await this.open(this.id, this.type);
    }
  }

  async send(text) {
    const m = await this.client.sendText(this.id, this.type, text);
    this.append(m);
    return m;
  }

  async remove(messageId) {
    try {
      await this.client.deleteMessage(this.id, this.type, messageId);
      this.messages = this.messages.filter((m) => m.id !== messageId);
      this.render();
      this.actions.deleted(this.id);
    } catch (e) {
      this.actions.status(`delete: ${errorText(e)}`);
    }
  }

  render() {
    const me = this.client.user;
    const items = this.messages.map((m) => h('li.msg', {
      dataset: { id: m.id, from: m.from },
      className: `msg${m.from === me ? ' mine' : ''}`,
    },
    h('div.meta', {}, h('span.from', {}, m.from), ' ', h('span.time', {}, when(m.time)),
      h('button.delete', { title: 'delete this message', onclick: () => this.remove(m.id) }, '✕')),
    h('div.text', {}, m.type === 'txt' ? m.msg : `[${m.type}]`)));
    const top = this.isLast
      ? h('li.top', {}, this.messages.length ? 'Beginning of the conversation' : 'No messages yet')
      : h('li.top', {}, 'Scroll up for older messages');
    this.root.replaceChildren(top, ...items);
  }
}

/** The fields the page keeps of an SDK message (its id as a string: ids exceed 2^53). */
function plain(m) {
  return { id: String(m.id), from: String(m.from || '').toLowerCase(), to: m.to, type: m.type || 'txt', msg: m.msg, time: Number(m.time) };
}
