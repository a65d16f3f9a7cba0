// The lag-sim playground: chat as any member, follow every delivery, change robots' settings.
// It speaks only to the admin API under /_sim and follows /_sim/feed (Server-Sent Events).
// Four classic scripts share one global scope, loaded in order: app.js (helpers, state, tabs,
// the world), chat.js (messages and the composer), inspector.js (deliveries and robot settings),
// live.js (the live feed and start-up).
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
