// A tiny element builder: h('li#id.class', {dataset: {id}}, child, …). Text is always set as text,
// never parsed as HTML, so nothing a peer sends can inject markup.
export function h(tag, props = {}, ...children) {
  if (props === null || props instanceof Node || typeof props !== 'object' || Array.isArray(props)) {
    children.unshift(props); // no props: the first argument is a child
    props = {};
  }
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const el = document.createElement(name || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el) el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Clock time for today's messages, date and time for older ones. */
export function when(ms) {
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

/** What a message shows in the list: its text, or its kind for other bodies. */
export function preview(m) {
  if (!m) return '';
  if (m.type === 'txt' || typeof m.msg === 'string') return m.msg ?? '';
  return `[${m.type || 'message'}]`;
}
