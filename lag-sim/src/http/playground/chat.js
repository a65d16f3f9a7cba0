// The playground's chat: the message list and the composer (see app.js).
'use strict';

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
