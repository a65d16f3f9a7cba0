// The lag-sim playground: chat as any member, follow every delivery, change robots' settings.
// It speaks only to the admin API under /_sim and follows /_sim/feed (Server-Sent Events).
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  world: { servers: [] },
  meta: { permissions: [], lagPermissions: [], eventTypes: [], transports: [], roles: [], statuses: [] },
  serverId: null,
  roomId: null,
  authorId: null,
  events: new Map(), // "robotId eventId" -> { robotId, eventId, type, transport, attempts: [] }
  selected: null,
  selectedAttempt: null,
  robotId: null,
};

// ----- small helpers -----------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function showError(error) {
  const box = $('error');
  box.textContent = error ? String(error.message || error) : '';
  box.hidden = !error;
}

// When lag-sim listens beyond loopback, the page comes with the run's admin token: every call
// sends it back in a header, which a page on another site cannot do. The link's ?token= has
// set the cookie the live feed and reloads use, so it leaves the address bar.
const TOKEN = document.querySelector('meta[name="lag-sim-token"]').content;
if (new URLSearchParams(window.location.search).has('token')) {
  window.history.replaceState(null, '', window.location.pathname + window.location.hash);
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (TOKEN) options.headers['x-lag-sim-token'] = TOKEN;
  if (body !== undefined) {
    options.headers['content-type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch('/_sim' + path, options);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = text; }
  }
  if (!response.ok) {
    throw new Error((data && data.message) || `${response.status} ${response.statusText}`);
  }
  return data;
}

// Runs an action from a control, showing its error instead of throwing.
async function act(action) {
  try {
    await action();
    showError(null);
  } catch (error) {
    showError(error);
  }
}

const clock = (iso) => {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
};

function server() {
  return state.world.servers.find((s) => s.server.id === state.serverId) || null;
}

function robotName(id) {
  for (const entry of state.world.servers) {
    const robot = entry.robots.find((r) => r.id === id);
    if (robot) return robot.name;
  }
  return id;
}

function allRobots() {
  return state.world.servers.flatMap((entry) => entry.robots);
}

function fillSelect(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => el('option', { value: v, text: label })));
  if (value !== undefined && options.some(([v]) => v === value)) select.value = value;
}

// ----- tabs --------------------------------------------------------------------------------

const TABS = ['chat', 'deliveries', 'robots'];

function showTab(name) {
  if (window.location.hash !== '#' + name) window.history.replaceState(null, '', '#' + name);
  for (const tab of TABS) {
    const selected = tab === name;
    $('tab-' + tab).setAttribute('aria-selected', String(selected));
    $('tab-' + tab).tabIndex = selected ? 0 : -1;
    $('view-' + tab).hidden = !selected;
  }
  if (name === 'chat') messageList.render();
  if (name === 'deliveries') renderDeliveries();
  if (name === 'robots') renderRobotSettings();
}

for (const tab of TABS) {
  $('tab-' + tab).addEventListener('click', () => showTab(tab));
  $('tab-' + tab).addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length];
    showTab(next);
    $('tab-' + next).focus();
  });
}

// ----- the world: servers, rooms, members, robots ------------------------------------------

async function loadWorld() {
  state.world = await api('GET', '/world');
  const servers = state.world.servers;
  if (!servers.some((s) => s.server.id === state.serverId)) {
    state.serverId = servers.length ? servers[0].server.id : null;
  }
  const current = server();
  const rooms = current ? current.rooms : [];
  let roomChanged = false;
  if (!rooms.some((r) => r.id === state.roomId)) {
    state.roomId = rooms.length ? rooms[0].id : null;
    roomChanged = true;
  }
  const members = current ? current.members : [];
  if (!members.some((m) => m.userId === state.authorId)) {
    state.authorId = members.length ? members[0].userId : null;
  }
  renderWorld();
  if (roomChanged) await loadMessages();
}

let worldReload = null;
function reloadWorldSoon() {
  clearTimeout(worldReload);
  worldReload = setTimeout(() => act(loadWorld), 80);
}

function renderWorld() {
  const current = server();
  fillSelect($('server'), state.world.servers.map((s) => [s.server.id, s.server.name]), state.serverId);
  const rooms = current ? current.rooms : [];
  $('rooms').replaceChildren(...rooms.map((room) => el('li', {},
    el('button', {
      type: 'button',
      'aria-current': String(room.id === state.roomId),
      onclick: () => act(() => selectRoom(room.id)),
    }, '#' + room.name, room.participants.length ? el('span', { class: 'muted', text: ` 🔊${room.participants.length}` }) : null))));
  const room = rooms.find((r) => r.id === state.roomId);
  $('room-title').textContent = room ? '#' + room.name : 'no room';
  $('room-delete').disabled = !room;
  const inVoice = room ? room.participants.map((p) => p.username) : [];
  $('voice-people').textContent = inVoice.length ? 'in voice: ' + inVoice.join(', ') : '';
  $('voice-toggle').disabled = !room || !state.authorId;
  $('voice-toggle').textContent = room && room.participants.some((p) => p.userId === state.authorId) ? 'Leave voice' : 'Join voice';

  const members = current ? current.members : [];
  fillSelect($('author'), members.map((m) => [m.userId, m.username]), state.authorId);
  $('members').replaceChildren(...members.map(memberItem));
  const robots = current ? current.robots : [];
  $('robots').replaceChildren(...robots.map((robot) => el('li', {},
    el('span', { class: 'name', text: robot.name }), ' ',
    el('span', { class: 'muted', text: `${robot.transportType}${robot.active ? '' : ', disabled'}` }), ' ',
    el('button', { type: 'button', onclick: () => { state.robotId = robot.id; showTab('robots'); } }, 'Settings'))));
  fillDeliveryFilters();
  fillRobotPicker();
}

function memberItem(member) {
  const path = `/servers/${state.serverId}/members/${member.userId}`;
  const role = el('select', {
    'aria-label': `Role of ${member.username}`,
    onchange: (event) => act(async () => { await api('PATCH', path, { role: event.target.value }); await loadWorld(); }),
  });
  fillSelect(role, state.meta.roles.map((r) => [r, r]), member.role);
  const status = el('select', {
    'aria-label': `Status of ${member.username}`,
    onchange: (event) => act(async () => { await api('PATCH', path, { status: event.target.value }); await loadWorld(); }),
  });
  fillSelect(status, state.meta.statuses.map((s) => [s, s]), member.status);
  const leave = el('button', {
    type: 'button',
    disabled: member.role === 'owner',
    title: member.role === 'owner' ? 'The owner cannot leave' : null,
    onclick: () => act(async () => { await api('DELETE', path); await loadWorld(); }),
  }, 'Leave');
  return el('li', {},
    el('span', { class: 'status-dot ' + member.status, title: member.status }),
    el('span', { class: 'name', text: member.username }),
    member.displayName && member.displayName !== member.username ? el('span', { class: 'muted', text: ' ' + member.displayName }) : null,
    el('div', { class: 'controls' }, role, status, leave));
}

$('server').addEventListener('change', (event) => act(async () => {
  state.serverId = event.target.value;
  state.roomId = null;
  await loadWorld();
}));

$('author').addEventListener('change', (event) => {
  state.authorId = event.target.value;
  renderWorld();
});

$('room-form').addEventListener('submit', (event) => {
  event.preventDefault();
  act(async () => {
    const room = await api('POST', `/servers/${state.serverId}/rooms`, {
      name: $('room-name').value.trim(),
      createdBy: state.authorId || undefined,
    });
    $('room-name').value = '';
    state.roomId = room.id;
    await loadWorld();
    await loadMessages();
  });
});

$('room-delete').addEventListener('click', () => act(async () => {
  const room = server() && server().rooms.find((r) => r.id === state.roomId);
  if (!room || !window.confirm(`Delete #${room.name} and its messages?`)) return;
  const by = state.authorId ? `?deletedBy=${encodeURIComponent(state.authorId)}` : '';
  await api('DELETE', `/rooms/${room.id}${by}`);
  await loadWorld();
}));

$('voice-toggle').addEventListener('click', () => act(async () => {
  const room = server() && server().rooms.find((r) => r.id === state.roomId);
  if (!room || !state.authorId) return;
  if (room.participants.some((p) => p.userId === state.authorId)) {
    await api('DELETE', `/rooms/${room.id}/voice/${state.authorId}`);
  } else {
    await api('POST', `/rooms/${room.id}/voice`, { userId: state.authorId });
  }
  await loadWorld();
}));

$('join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  act(async () => {
    await api('POST', `/servers/${state.serverId}/members`, { username: $('join-name').value.trim() });
    $('join-name').value = '';
    await loadWorld();
  });
});

// ----- messages: a windowed list, only what is visible is in the page ------------------------

const messageList = {
  box: $('messages'),
  spacer: $('messages-spacer'),
  items: [],
  byId: new Map(),
  heights: [],
  offsets: [0],
  nodes: new Map(),
  estimate: 46,
  overscan: 8,
  pending: false,

  reset(items) {
    for (const node of this.nodes.values()) node.remove();
    this.nodes.clear();
    this.items = [];
    this.byId.clear();
    this.heights = [];
    for (const item of items) this.push(item);
    this.layout();
    this.box.scrollTop = this.box.scrollHeight;
    this.render();
  },

  push(item) {
    if (this.byId.has(item.id)) return false;
    this.byId.set(item.id, this.items.length);
    this.items.push(item);
    this.heights.push(this.estimate);
    return true;
  },

  append(item) {
    const atBottom = this.box.scrollTop + this.box.clientHeight >= this.box.scrollHeight - 8;
    if (!this.push(item)) return;
    this.layout();
    if (atBottom) this.box.scrollTop = this.box.scrollHeight;
    this.schedule();
  },

  update(id, change) {
    const index = this.byId.get(id);
    if (index === undefined) return;
    Object.assign(this.items[index], change);
    const node = this.nodes.get(index);
    if (node) {
      node.remove();
      this.nodes.delete(index);
    }
    this.schedule();
  },

  // Draws the visible rows again (a row's look changed without its item changing).
  refresh() {
    for (const node of this.nodes.values()) node.remove();
    this.nodes.clear();
    this.schedule();
  },

  layout() {
    const offsets = new Array(this.items.length + 1);
    let y = 0;
    for (let i = 0; i < this.items.length; i += 1) {
      offsets[i] = y;
      y += this.heights[i];
    }
    offsets[this.items.length] = y;
    this.offsets = offsets;
    this.spacer.style.height = y + 'px';
  },

  // The first index whose row ends below `y`.
  indexAt(y) {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.offsets[mid + 1] <= y) low = mid + 1; else high = mid;
    }
    return low;
  },

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.render(); });
  },

  render() {
    if ($('view-chat').hidden) return;
    const count = this.items.length;
    const top = this.box.scrollTop;
    const bottom = top + this.box.clientHeight;
    const first = Math.max(0, this.indexAt(top) - this.overscan);
    const last = Math.min(count, this.indexAt(bottom) + 1 + this.overscan);
    for (const [index, node] of this.nodes) {
      if (index < first || index >= last) {
        node.remove();
        this.nodes.delete(index);
      }
    }
    for (let i = first; i < last; i += 1) {
      if (!this.nodes.has(i)) {
        const node = messageNode(this.items[i]);
        this.spacer.append(node);
        this.nodes.set(i, node);
      }
    }
    let changed = false;
    for (const [index, node] of this.nodes) {
      const height = node.offsetHeight;
      if (height && height !== this.heights[index]) {
        this.heights[index] = height;
        changed = true;
      }
    }
    const atBottom = top + this.box.clientHeight >= this.spacer.offsetHeight - 8;
    if (changed) this.layout();
    for (const [index, node] of this.nodes) node.style.top = this.offsets[index] + 'px';
    if (changed && atBottom) this.box.scrollTop = this.box.scrollHeight;
    this.spacer.classList.toggle('empty', count === 0);
    this.spacer.dataset.count = String(count);
  },
};

messageList.box.addEventListener('scroll', () => messageList.schedule());
window.addEventListener('resize', () => {
  messageList.heights.fill(messageList.estimate);
  for (const node of messageList.nodes.values()) node.remove();
  messageList.nodes.clear();
  messageList.layout();
  messageList.schedule();
  renderDeliveriesSoon();
});

function fromHistory(message) {
  return {
    id: message.id,
    userId: message.isBot ? null : message.userId,
    author: message.isBot ? (message.robotName || message.username) : message.username,
    isBot: message.isBot,
    content: message.content,
    createdAt: message.createdAt,
    edited: Boolean(message.editedAt),
    deleted: false,
    mentions: message.mentions || [],
  };
}

function fromEvent(data) {
  return {
    id: data.messageId,
    userId: data.isBot ? null : data.senderId,
    author: data.senderName,
    isBot: Boolean(data.isBot),
    content: data.content,
    createdAt: data.createdAt,
    edited: false,
    deleted: false,
    mentions: data.mentions || [],
  };
}

// The members and robots an edited text mentions: an edit event carries the new text only.
function mentionsIn(text) {
  return candidates()
    .filter((c) => new RegExp('(^|[^\\w])@' + c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?!\\w)', 'i').test(text))
    .map((c) => ({ name: c.name, type: c.kind === 'robot' ? 'robot' : 'user' }));
}

// The content with each @mention of `mentions` highlighted.
function contentNodes(text, mentions) {
  const names = [...new Set(mentions.map((m) => m.name))].sort((a, b) => b.length - a.length);
  if (!names.length) return [text];
  const kinds = new Map(mentions.map((m) => [m.name.toLowerCase(), m.type]));
  const pattern = new RegExp('@(' + names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') + ')', 'gi');
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index));
    const kind = kinds.get(match[1].toLowerCase()) || 'user';
    parts.push(el('mark', { class: 'mention ' + kind, text: match[0] }));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

function messageNode(item) {
  const classes = ['msg'];
  if (item.isBot) classes.push('bot');
  if (item.deleted) classes.push('deleted');
  if (item.id === editing.id) classes.push('editing');
  const actions = item.deleted ? null : el('span', { class: 'actions' },
    item.userId ? el('button', {
      type: 'button',
      'aria-label': `Edit ${item.author}'s message`,
      onclick: () => startEdit(item),
    }, 'Edit') : null,
    el('button', {
      type: 'button',
      class: 'danger',
      'aria-label': `Delete ${item.author}'s message`,
      title: item.userId ? `Deletes it as ${item.author}` : 'Deletes it as the member the composer posts as (an owner or admin may)',
      onclick: () => act(() => deleteMessage(item)),
    }, 'Delete'));
  return el('article', { class: classes.join(' '), 'data-id': item.id },
    el('header', {},
      el('span', { class: 'author', text: item.author }),
      item.isBot ? el('span', { class: 'badge', text: 'robot' }) : null,
      el('time', { datetime: item.createdAt, text: clock(item.createdAt) }),
      item.edited ? el('span', { class: 'edited', text: '(edited)' }) : null,
      item.deleted ? el('span', { class: 'gone', text: '(deleted)' }) : null,
      actions),
    el('div', { class: 'content' }, contentNodes(item.content, item.mentions)));
}

// Editing happens in the composer: it takes the message's text, and Send saves the edit as the
// message's author. Escape or Cancel leaves the message as it was.
const editing = { id: null, userId: null, draft: '' };

function startEdit(item) {
  if (editing.id === null) editing.draft = $('text').value;
  editing.id = item.id;
  editing.userId = item.userId;
  $('text').value = item.content;
  renderEditing();
  $('text').focus();
}

function stopEdit() {
  if (editing.id === null) return;
  $('text').value = editing.draft;
  editing.id = null;
  editing.userId = null;
  editing.draft = '';
  renderEditing();
}

function renderEditing() {
  const item = editing.id === null ? null : messageList.items[messageList.byId.get(editing.id)];
  $('editing').hidden = !item;
  $('editing-what').textContent = item ? `Editing ${item.author}'s message (Enter saves, Escape cancels)` : '';
  $('send').textContent = item ? 'Save' : 'Send';
  $('author').disabled = Boolean(item);
  messageList.refresh();
}

$('edit-cancel').addEventListener('click', () => { stopEdit(); $('text').focus(); });

async function deleteMessage(item) {
  const by = item.userId || state.authorId;
  if (!by) throw new Error('Choose a member to delete the message as.');
  await api('DELETE', `/rooms/${state.roomId}/messages/${item.id}?userId=${encodeURIComponent(by)}`);
  if (item.id === editing.id) stopEdit();
}

async function loadMessages() {
  if (!state.roomId) {
    messageList.reset([]);
    return;
  }
  const room = state.roomId;
  const messages = await api('GET', `/rooms/${room}/messages`);
  if (room !== state.roomId) return;
  messageList.reset(messages.slice().reverse().map(fromHistory));
}

async function selectRoom(roomId) {
  stopEdit();
  state.roomId = roomId;
  renderWorld();
  await loadMessages();
}

// ----- the composer, with @ completion -----------------------------------------------------

const completion = { open: false, items: [], index: 0, start: 0 };

function candidates() {
  const current = server();
  if (!current) return [];
  return [
    ...current.members.map((m) => ({ name: m.username, kind: 'member' })),
    ...current.robots.map((r) => ({ name: r.name, kind: 'robot' })),
  ];
}

function updateCompletion() {
  const text = $('text');
  const before = text.value.slice(0, text.selectionStart);
  const match = /(^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return closeCompletion();
  const typed = match[2].toLowerCase();
  completion.items = candidates().filter((c) => c.name.toLowerCase().startsWith(typed)).slice(0, 8);
  completion.start = before.length - match[2].length - 1;
  if (!completion.items.length) return closeCompletion();
  completion.index = Math.min(completion.index, completion.items.length - 1);
  completion.open = true;
  renderCompletion();
}

function renderCompletion() {
  const list = $('completions');
  list.replaceChildren(...completion.items.map((c, i) => el('li', {
    role: 'option',
    id: 'completion-' + i,
    'aria-selected': String(i === completion.index),
    onmousedown: (event) => { event.preventDefault(); pickCompletion(i); },
  }, '@' + c.name, el('span', { class: 'kind', text: c.kind }))));
  list.hidden = !completion.open;
  $('text').setAttribute('aria-expanded', String(completion.open));
  $('text').setAttribute('aria-activedescendant', completion.open ? 'completion-' + completion.index : '');
}

function closeCompletion() {
  completion.open = false;
  completion.index = 0;
  renderCompletion();
}

function pickCompletion(index) {
  const text = $('text');
  const choice = completion.items[index];
  if (!choice) return;
  const caret = text.selectionStart;
  const inserted = '@' + choice.name + ' ';
  text.value = text.value.slice(0, completion.start) + inserted + text.value.slice(caret);
  const at = completion.start + inserted.length;
  text.setSelectionRange(at, at);
  closeCompletion();
  text.focus();
}

$('text').addEventListener('input', updateCompletion);
$('text').addEventListener('blur', () => setTimeout(closeCompletion, 100));
$('text').addEventListener('keydown', (event) => {
  if (completion.open) {
    const count = completion.items.length;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      completion.index = (completion.index + (event.key === 'ArrowDown' ? 1 : count - 1)) % count;
      renderCompletion();
      return;
    }
    if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      pickCompletion(completion.index);
      return;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      closeCompletion();
      return;
    }
  }
  if (event.key === 'Escape' && editing.id !== null) {
    event.preventDefault();
    stopEdit();
    return;
  }
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('composer').requestSubmit();
  }
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const content = $('text').value;
  if (!content.trim() || !state.roomId) return;
  act(async () => {
    if (editing.id !== null) {
      await api('PATCH', `/rooms/${state.roomId}/messages/${editing.id}`, { userId: editing.userId, content });
      editing.draft = '';
      stopEdit();
    } else {
      await api('POST', `/rooms/${state.roomId}/messages`, { userId: state.authorId, content });
      $('text').value = '';
    }
    closeCompletion();
  });
});

// ----- the delivery inspector --------------------------------------------------------------

const OUTCOMES = ['delivered', 'replayed', 'failed', 'gave_up', 'gone', 'cancelled', 'expired'];
const MAX_ROWS = 300;

function addDelivery(record) {
  const key = record.robotId + ' ' + record.eventId;
  let entry = state.events.get(key);
  if (!entry) {
    entry = { key, robotId: record.robotId, eventId: record.eventId, type: record.eventType, transport: record.transport, attempts: [] };
    state.events.set(key, entry);
  }
  entry.transport = record.transport;
  entry.attempts.push(record);
}

async function loadDeliveries() {
  const logs = await Promise.all(allRobots().map((robot) => api('GET', `/robots/${robot.id}/deliveries`).catch(() => [])));
  state.events.clear();
  for (const record of logs.flat().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) addDelivery(record);
  renderDeliveries();
}

function fillDeliveryFilters() {
  const robot = $('filter-robot');
  const chosen = robot.value;
  fillSelect(robot, [['', 'all'], ...allRobots().map((r) => [r.id, r.name])], chosen);
  const type = $('filter-type');
  if (type.options.length <= 1) fillSelect(type, [['', 'all'], ...state.meta.eventTypes.map((t) => [t, t])], '');
  const outcome = $('filter-outcome');
  if (outcome.options.length <= 1) fillSelect(outcome, [['', 'all'], ...OUTCOMES.map((o) => [o, o.replace('_', ' ')])], '');
}

for (const id of ['filter-robot', 'filter-type', 'filter-outcome']) {
  $(id).addEventListener('change', () => renderDeliveries());
}

function matching() {
  const robot = $('filter-robot').value;
  const type = $('filter-type').value;
  const outcome = $('filter-outcome').value;
  return [...state.events.values()].filter((e) => (!robot || e.robotId === robot)
    && (!type || e.type === type)
    && (!outcome || e.attempts.some((a) => a.outcome === outcome)));
}

let deliveriesPending = false;
function renderDeliveriesSoon() {
  if (deliveriesPending) return;
  deliveriesPending = true;
  requestAnimationFrame(() => { deliveriesPending = false; renderDeliveries(); });
}

function attemptBadge(attempt) {
  const parts = [attempt.status || attempt.outcome.replace('_', ' ')];
  if (attempt.latencyMs !== null && attempt.latencyMs !== undefined) parts.push(attempt.latencyMs + ' ms');
  return el('span', {
    class: `att ${attempt.outcome}${attempt.redelivery ? ' redelivery' : ''}`,
    title: `attempt ${attempt.attempt}: ${attempt.outcome}${attempt.redelivery ? ' (redelivery)' : ''} at ${clock(attempt.at)}${attempt.error ? ' — ' + attempt.error : ''}`,
  }, parts.join(' · '));
}

function renderDeliveries() {
  if ($('view-deliveries').hidden) return;
  const shown = matching();
  const newest = shown.slice(-MAX_ROWS).reverse();
  $('delivery-count').textContent = shown.length > MAX_ROWS
    ? `newest ${MAX_ROWS} of ${shown.length} events`
    : `${shown.length} events`;
  $('events').replaceChildren(...newest.map((entry) => {
    const first = entry.attempts[0];
    return el('tr', { 'aria-selected': String(entry.key === state.selected) },
      el('td', {}, el('button', {
        type: 'button',
        'aria-label': `Inspect ${entry.type} ${entry.eventId} for ${robotName(entry.robotId)}`,
        onclick: () => { state.selected = entry.key; state.selectedAttempt = null; renderDeliveries(); },
      }, clock(first.at))),
      el('td', { text: entry.type }),
      el('td', { text: robotName(entry.robotId) }),
      el('td', { text: entry.transport }),
      el('td', {}, entry.attempts.map(attemptBadge)));
  }));
  renderChart(shown);
  renderDetail();
}

function renderChart(entries) {
  const svg = $('chart');
  const ns = svg.namespaceURI;
  const width = Math.max(200, Math.round(svg.clientWidth || 600));
  svg.setAttribute('viewBox', `0 0 ${width} 120`);
  const attempts = entries.flatMap((e) => e.attempts).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-200);
  const max = Math.max(10, ...attempts.map((a) => a.latencyMs || 0));
  const shapes = [];
  const line = (y, label) => {
    const l = document.createElementNS(ns, 'line');
    l.setAttribute('x1', '0'); l.setAttribute('x2', String(width));
    l.setAttribute('y1', String(y)); l.setAttribute('y2', String(y));
    l.setAttribute('stroke', '#d9dde5'); l.setAttribute('stroke-width', '1');
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', '2'); t.setAttribute('y', String(y - 2));
    t.setAttribute('font-size', '9'); t.setAttribute('fill', '#5c6577');
    t.textContent = label;
    shapes.push(l, t);
  };
  line(110, '0 ms');
  line(10, `${max} ms`);
  attempts.forEach((attempt, i) => {
    const c = document.createElementNS(ns, 'circle');
    const x = attempts.length === 1 ? width / 2 : 8 + (i * (width - 16)) / (attempts.length - 1);
    const y = 110 - Math.sqrt((attempt.latencyMs || 0) / max) * 100;
    const good = attempt.outcome === 'delivered' || attempt.outcome === 'replayed';
    const bad = ['failed', 'gave_up', 'gone'].includes(attempt.outcome);
    c.setAttribute('cx', x.toFixed(1));
    c.setAttribute('cy', y.toFixed(1));
    c.setAttribute('r', '3');
    c.setAttribute('fill', good ? '#1f7a3d' : bad ? '#b42318' : '#9a6700');
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${attempt.eventType} to ${robotName(attempt.robotId)}: ${attempt.outcome}, ${attempt.latencyMs ?? '?'} ms at ${clock(attempt.at)}`;
    c.append(title);
    shapes.push(c);
  });
  svg.replaceChildren(...shapes);
}

function headerTable(headers) {
  if (!headers || !headers.length) return el('p', { class: 'muted', text: 'no headers' });
  return el('table', { class: 'kv' }, el('tbody', {}, headers.map(([name, value]) => el('tr', {},
    el('th', { scope: 'row', text: name }), el('td', { text: value })))));
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
}

function renderDetail() {
  const box = $('detail');
  const entry = state.selected && state.events.get(state.selected);
  if (!entry) {
    box.replaceChildren(el('p', { class: 'muted', text: 'Choose an event to see its attempts.' }));
    return;
  }
  const index = state.selectedAttempt === null ? entry.attempts.length - 1 : Math.min(state.selectedAttempt, entry.attempts.length - 1);
  const attempt = entry.attempts[index];
  const redeliver = el('button', {
    type: 'button',
    onclick: () => act(async () => {
      await api('POST', `/robots/${entry.robotId}/events/${entry.eventId}/redeliver`);
      state.selectedAttempt = null;
    }),
  }, 'Redeliver');
  const request = attempt.request;
  const response = attempt.response;
  box.replaceChildren(
    el('h3', {}, entry.type, ' ', el('code', { text: entry.eventId })),
    el('div', { class: 'row' }, el('span', { text: `to ${robotName(entry.robotId)} over ${entry.transport}` }), el('span', { class: 'spacer' }), redeliver),
    el('div', { class: 'attempts', role: 'group', 'aria-label': 'Attempts' }, entry.attempts.map((a, i) => el('button', {
      type: 'button',
      'aria-pressed': String(i === index),
      onclick: () => { state.selectedAttempt = i; renderDetail(); },
    }, `#${a.attempt}${a.redelivery ? ' (re)' : ''} ${a.status || a.outcome}`))),
    el('table', { class: 'kv' }, el('tbody', {},
      [['outcome', attempt.outcome + (attempt.redelivery ? ' (redelivery)' : '')],
        ['status', attempt.status ?? '—'],
        ['latency', attempt.latencyMs === null || attempt.latencyMs === undefined ? '—' : attempt.latencyMs + ' ms'],
        ['time', new Date(attempt.at).toLocaleString()],
        ['error', attempt.error || '—'],
        ['next attempt', attempt.nextAttemptInMs ? `in ${Math.round(attempt.nextAttemptInMs / 1000)} s (simulated)` : '—']]
        .map(([k, v]) => el('tr', {}, el('th', { scope: 'row', text: k }), el('td', { text: String(v) }))))),
    el('h4', { text: 'Request' }),
    request && request.url ? el('p', { class: 'target' }, 'POST ', el('code', { text: request.url })) : null,
    request ? headerTable(request.headers) : el('p', { class: 'muted', text: 'not recorded' }),
    request ? el('pre', { text: pretty(request.body) }) : null,
    el('h4', { text: response ? `Response: ${response.status}` : 'Response' }),
    response ? headerTable(response.headers) : el('p', { class: 'muted', text: entry.transport === 'webhook' ? 'no answer' : 'SSE and long-poll have no answer' }),
    response ? el('pre', { text: (response.body ? pretty(response.body) : '(empty body)') + (response.truncated ? '\n…(truncated)' : '') }) : null,
  );
}

// ----- robot settings ----------------------------------------------------------------------

function fillRobotPicker() {
  const robots = allRobots();
  if (!robots.some((r) => r.id === state.robotId)) state.robotId = robots.length ? robots[0].id : null;
  fillSelect($('robot-pick'), robots.map((r) => [r.id, r.name]), state.robotId);
  if (!$('view-robots').hidden && !$('robot-settings').contains(document.activeElement)) renderRobotSettings();
}

$('robot-pick').addEventListener('change', (event) => {
  state.robotId = event.target.value;
  renderRobotSettings();
});

async function renderRobotSettings() {
  const box = $('robot-settings');
  if (!state.robotId) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No robot yet.' }));
    return;
  }
  let robot;
  try {
    robot = await api('GET', `/robots/${state.robotId}`);
  } catch (error) {
    showError(error);
    return;
  }
  const checks = (name, all, chosen, note) => el('div', { class: 'checks' }, all.map((value) => el('label', {},
    el('input', { type: 'checkbox', name, value, checked: chosen.includes(value) }),
    value, note && note(value) ? el('span', { class: 'muted', text: note(value) }) : null)));
  const transport = el('select', { id: 'robot-transport', 'aria-label': 'Transport' });
  fillSelect(transport, state.meta.transports.map((t) => [t, t]), robot.transportType);
  const url = el('input', { type: 'url', id: 'robot-webhook', 'aria-label': 'Webhook URL', value: robot.webhookUrl || '', placeholder: 'webhook URL' });
  const syncUrl = () => { url.disabled = transport.value !== 'webhook'; };
  transport.addEventListener('change', syncUrl);
  syncUrl();
  const active = el('input', { type: 'checkbox', id: 'robot-active', checked: robot.active });
  const saved = el('span', { class: 'saved', role: 'status' });
  const form = el('form', { class: 'settings' },
    el('h2', {}, robot.name, ' ', el('code', { text: robot.id })),
    el('fieldset', {}, el('legend', { text: 'Delivery' }),
      el('div', { class: 'row' }, el('label', { class: 'field' }, active, 'Active')),
      el('div', { class: 'row' }, el('label', { class: 'field' }, 'Transport ', transport), url),
      el('p', { class: 'muted', text: `${robot.pendingEvents} events queued, not yet handed to the robot` })),
    el('fieldset', {}, el('legend', { text: 'Permissions' }),
      checks('permission', state.meta.permissions, robot.permissions, (p) => (state.meta.lagPermissions.includes(p) ? '' : ' (emulator extension)'))),
    el('fieldset', {}, el('legend', { text: 'Subscriptions' }), checks('subscription', state.meta.eventTypes, robot.subscriptions)),
    el('div', { class: 'row' }, el('button', { type: 'submit' }, 'Save'), saved),
    el('fieldset', {}, el('legend', { text: 'Credentials' }),
      el('div', { class: 'row' }, 'API key ', el('code', { text: robot.key }), el('button', { type: 'button', id: 'robot-regenerate', onclick: () => act(async () => {
        if (!window.confirm('Regenerate the key? The current one stops working at once.')) return;
        await api('POST', `/robots/${robot.id}/regenerate-key`);
        await renderRobotSettings();
      }) }, 'Regenerate key')),
      el('div', { class: 'row' }, 'Webhook secrets ', robot.secrets.map((s) => el('code', { text: s })), el('button', { type: 'button', id: 'robot-rotate', onclick: () => act(async () => {
        await api('POST', `/robots/${robot.id}/rotate-secret`, {});
        await renderRobotSettings();
      }) }, 'Rotate secret'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const picked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
      const change = {
        active: active.checked,
        transportType: transport.value,
        permissions: picked('permission'),
        subscriptions: picked('subscription'),
      };
      if (transport.value === 'webhook') change.webhookUrl = url.value.trim();
      await api('PATCH', `/robots/${robot.id}`, change);
      saved.textContent = 'Saved: in effect now.';
      await loadWorld();
    });
  });
  box.replaceChildren(form);
}

// ----- the live feed -----------------------------------------------------------------------

function onWorldEvent(event) {
  const data = event.body.data || {};
  switch (event.kind) {
    case 'room.message':
      if (data.roomId === state.roomId) messageList.append(fromEvent(data));
      break;
    case 'room.message.edited':
      if (data.roomId === state.roomId) messageList.update(data.messageId, { content: data.content, edited: true, mentions: mentionsIn(data.content) });
      break;
    case 'room.message.deleted':
      if (data.roomId === state.roomId) messageList.update(data.messageId, { deleted: true });
      if (data.messageId === editing.id) stopEdit();
      break;
    default:
      reloadWorldSoon();
  }
}

async function resync() {
  await loadWorld();
  await loadMessages();
  await loadDeliveries();
}

function connect() {
  const feed = new EventSource('/_sim/feed');
  feed.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').classList.add('live');
    act(resync);
  });
  feed.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting…';
    $('connection').classList.remove('live');
  });
  feed.addEventListener('world', (message) => onWorldEvent(JSON.parse(message.data)));
  feed.addEventListener('delivery', (message) => {
    addDelivery(JSON.parse(message.data));
    renderDeliveriesSoon();
  });
  feed.addEventListener('missed', () => act(resync));
}

act(async () => {
  state.meta = await api('GET', '/meta');
  await loadWorld();
  const wanted = window.location.hash.slice(1);
  if (TABS.includes(wanted)) showTab(wanted);
  connect();
});
