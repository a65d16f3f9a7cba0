// The playground's delivery inspector and robot settings (see app.js).
'use strict';

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
