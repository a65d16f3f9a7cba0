// The playground's live feed and start-up, loaded last (see app.js).
'use strict';

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
