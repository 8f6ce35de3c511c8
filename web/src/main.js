// Roam's web chat: log in, the conversation list (unread badges, pins, marks), history with
// scroll-up paging, sending, read acks, pin, mark, delete — and the user's other devices'
// changes live (the SDK's multi-device events).
import './style.css';
import { Client, errorText, serverOptions } from './client.js';
import { Conversations, STAR } from './conversations.js';
import { h } from './dom.js';
import { Pane } from './pane.js';

const app = document.querySelector('#app');
let client = null;
let list = null;
let pane = null;

function status(text) {
  const el = document.querySelector('#status');
  if (el) el.textContent = text;
}

function loginView(error = '', name = '') {
  const user = h('input', { name: 'user', placeholder: 'user', autocomplete: 'username', required: true, value: name });
  const pwd = h('input', { name: 'password', type: 'password', placeholder: 'password', autocomplete: 'current-password', required: true });
  const form = h('form#login.login', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      form.querySelector('button').disabled = true;
      try {
        await login(user.value.trim(), pwd.value);
      } catch (e) {
        loginView(`Login failed: ${errorText(e)}`, user.value);
      }
    },
  },
  h('h1', {}, 'Roam'),
  user, pwd,
  h('button', { type: 'submit' }, 'Log in'),
  h('p#status.status', { role: 'alert' }, error));
  app.replaceChildren(form);
  (name ? pwd : user).focus();
}

async function login(user, pwd) {
  const options = await serverOptions();
  list = pane = null;
  // Events of a connection that is no longer the page's (logged out, failed) are dropped.
  const current = (f) => (arg) => { if (client === c) f(arg); };
  const c = new Client(options, {
    onTextMessage: current(incoming),
    onCustomMessage: current(incoming),
    onChannelMessage: current(refresh),
    onMultiDeviceEvent: current(otherDevice),
    onDisconnected: current(() => status('disconnected')),
    onConnected: current(() => status('')),
    onError: current((e) => status(errorText(e))),
  });
  client = c;
  try {
    await c.open(user, pwd);
  } catch (e) {
    client = null;
    c.close();
    throw e;
  }
  chatView();
  await list.load(client);
}

function chatView() {
  const peer = h('input', { name: 'peer', placeholder: 'chat with: user, or #group id' });
  const start = h('form.start', {
    onsubmit: (ev) => {
      ev.preventDefault();
      // "bob" is a chat with user bob, "#<group id>" one in that group.
      const value = peer.value.trim().toLowerCase();
      const type = value.startsWith('#') ? 'groupChat' : 'singleChat';
      const id = value.replace(/^#/, '');
      if (!id) return;
      peer.value = '';
      list.ensure(id, type);
      open(id, type);
    },
  }, peer, h('button', { type: 'submit' }, 'Chat'));
  const convs = h('ul#conversations.conversations');
  const more = h('button#more-conversations', { hidden: true, onclick: () => list.more(client) }, 'More conversations');
  const messages = h('ul#messages.messages');
  const text = h('input', { name: 'text', placeholder: 'message', autocomplete: 'off', maxLength: 5000 });
  const compose = h('form#compose.compose', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const msg = text.value;
      if (!msg.trim() || !pane.id) return;
      text.value = '';
      try {
        const m = await pane.send(msg);
        list.message(pane.id, pane.type, m, false);
      } catch (e) {
        text.value = msg;
        status(`send: ${errorText(e)}`);
      }
    },
  }, text, h('button', { type: 'submit' }, 'Send'));
  const header = h('header#conversation.conversation-header', { hidden: true },
    h('span#title.title'),
    h('button#pin', { onclick: () => act('pin') }),
    h('button#star', { onclick: () => act('star') }),
    h('button#delete-conversation', { onclick: () => act('delete') }, 'Delete conversation'));
  app.replaceChildren(h('div.chat',
    h('aside.side',
      h('div.me', {}, h('strong#me', {}, client.user),
        h('button#logout', { onclick: logout }, 'Log out')),
      start, convs, more),
    h('main.pane', header, messages, compose),
    h('p#status.status', { role: 'status' })));
  compose.hidden = true;
  list = new Conversations(convs, { open });
  pane = new Pane(messages, client, {
    status,
    deleted: () => refresh(),
  });
}

function logout() {
  client.close();
  client = list = pane = null;
  loginView();
}

/** Opens a conversation and tells the server (and so every device) it has been read. */
async function open(id, type) {
  list.select(id);
  document.querySelector('#compose').hidden = false;
  const loading = pane.open(id, type); // sets pane.id at once, which the header shows
  showHeader();
  await loading;
  await readAck(id, type);
}

async function readAck(id, type) {
  const c = list.get(id);
  if (!c || !c.unread) return;
  try {
    await client.readAck(id, type);
    list.read(id);
  } catch (e) {
    status(`read ack: ${errorText(e)}`);
  }
}

function showHeader() {
  const c = pane.id && list.get(pane.id);
  const header = document.querySelector('#conversation');
  header.hidden = !pane.id;
  if (!pane.id) return;
  document.querySelector('#title').textContent = pane.id;
  document.querySelector('#pin').textContent = c && c.pinned ? 'Unpin' : 'Pin';
  document.querySelector('#star').textContent = c && c.marks.includes(STAR) ? 'Unstar' : 'Star';
}

/** The header's actions on the open conversation. */
async function act(what) {
  const { id, type } = pane;
  const c = list.ensure(id, type);
  try {
    if (what === 'pin') {
      await client.pin(id, type, !c.pinned);
    } else if (what === 'star') {
      await client.mark(id, type, STAR, !c.marks.includes(STAR));
    } else if (what === 'delete') {
      await client.deleteConversation(id, type);
      pane.close();
      list.remove(id);
      list.select(null);
      document.querySelector('#compose').hidden = true;
    }
    await refresh();
  } catch (e) {
    status(`${what}: ${errorText(e)}`);
  }
}

/** A live message: shown if its conversation is open (and acked as read), else counted. */
function incoming(m) {
  if (!client || !list) return; // before the list loads: the list will count it
  const mine = String(m.from).toLowerCase() === client.user;
  const type = m.chatType || 'singleChat';
  const id = type === 'singleChat' && !mine ? String(m.from).toLowerCase() : String(m.to);
  const isOpen = pane.id === id && !document.hidden;
  list.message(id, type, m, !mine && !isOpen);
  if (pane.id === id) {
    pane.append(m);
    if (!mine) client.readAck(id, type).catch((e) => status(`read ack: ${errorText(e)}`));
  }
}

/** Another device of this user pinned, marked or deleted something: follow it. */
async function otherDevice(e) {
  if (!pane) return; // before the list loads: it will be current
  const id = e.conversationId;
  if (e.operation === 'deleteConversation' && pane.id === id) {
    pane.close();
    list.select(null);
    document.querySelector('#compose').hidden = true;
  }
  if (e.operation === 'deleteRoaming' && pane.id === id) await pane.removed(e.messageIds);
  await refresh();
}

/** Reloads the list from the server (what other devices changed is there). */
async function refresh() {
  if (!client || !list) return;
  try {
    await list.load(client);
    showHeader();
  } catch (e) {
    status(`conversations: ${errorText(e)}`);
  }
}

loginView();
