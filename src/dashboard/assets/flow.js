// The sequence diagram of one connection: the client and the server as two lanes, time going
// down, each burst of data an arrow with its size and first bytes. Used live by the page and
// inlined into exported files, so it is a plain script with no dependencies.

(() => {
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };

  const bytes = (n) =>
    n < 10_000
      ? `${n} B`
      : n < 10_000_000
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${(n / 1_048_576).toFixed(1)} MiB`;

  const since = (flow, t) => `+${((t - flow.openedAt) / 1000).toFixed(3)} s`;

  // Which way an event goes, from the point of view of the two lanes. We are the server for
  // accepted connections and the client for dialled ones.
  function direction(flow, type) {
    const weAreServer = flow.role !== 'client';
    const fromPeer = type === 'data-in' || type === 'half-close-in';
    const fromUs = type === 'data-out' || type === 'half-close-out';
    if (fromPeer) return weAreServer ? 'to-server' : 'to-client';
    if (fromUs) return weAreServer ? 'to-client' : 'to-server';
    return undefined;
  }

  const ourSide = (flow) => (flow.role === 'client' ? 'at-client' : 'at-server');
  const peerSide = (flow) => (flow.role === 'client' ? 'at-server' : 'at-client');
  const RESETS = new Set(['ECONNRESET', 'EPIPE']);

  function preview(p) {
    if (!p) return '';
    return 'text' in p ? `“${p.text}”` : `hex ${p.hex}`;
  }

  function arrow(li, dir, label, srText) {
    li.classList.add(dir);
    const track = el('span', 'track');
    const a = el('span', 'arrow');
    const l = el('span', 'label');
    l.append(...label);
    l.title = l.textContent;
    track.append(a, l, el('span', 'sr', srText));
    li.append(track);
  }

  function note(li, side, text, warn) {
    li.classList.add('note', side);
    if (warn) li.classList.add('warn');
    const track = el('span', 'track');
    track.append(el('span', 'box', text));
    li.append(track);
  }

  function item(flow, e) {
    const li = el('li', 'ev');
    li.dataset.type = e.type;
    li.dataset.seq = String(e.seq);
    li.append(el('span', 't', since(flow, e.time)));
    const dir = direction(flow, e.type);
    const words = dir === 'to-server' ? 'client to server' : 'server to client';
    switch (e.type) {
      case 'data-in':
      case 'data-out': {
        li.classList.add('data');
        const size = el('b', '', bytes(e.bytes ?? 0));
        const extra = e.chunks ? ` (${e.chunks} chunks)` : '';
        arrow(
          li,
          dir,
          [size, ` ${preview(e.preview)}${extra}`],
          `${words}: ${bytes(e.bytes ?? 0)}`,
        );
        li.dataset.dir = dir;
        break;
      }
      case 'half-close-in':
      case 'half-close-out':
        li.classList.add('fin');
        li.dataset.dir = dir;
        arrow(li, dir, [el('b', '', 'FIN'), ' (no more data this way)'], `${words}: FIN`);
        break;
      case 'accept':
      case 'connect': {
        li.classList.add('opening');
        arrow(
          li,
          'to-server',
          [el('b', '', 'connect'), ` ${e.type === 'accept' ? '(accepted)' : ''}`],
          'client connects to server',
        );
        break;
      }
      case 'close': {
        const r = e.reason;
        if (r && RESETS.has(r)) {
          li.classList.add('rst');
          const from = flow.role === 'client' ? 'to-client' : 'to-server';
          arrow(li, from, [el('b', '', 'RST'), ` (${r})`], 'the peer reset the connection');
        } else if (r && r !== 'idle') {
          li.classList.add('rst');
          const from = flow.role === 'client' ? 'to-server' : 'to-client';
          arrow(li, from, [el('b', '', 'close'), ` (${r})`], `we closed the connection: ${r}`);
        } else note(li, 'center', r === 'idle' ? 'quiet: flow ended' : 'closed');
        break;
      }
      case 'timeout':
        note(li, ourSide(flow), `idle timeout${e.reason ? ` (${e.reason})` : ''}`, true);
        break;
      case 'limit-hit':
        note(
          li,
          ourSide(flow),
          `limit: ${e.reason ?? ''}${e.message ? ` — ${e.message}` : ''}`,
          true,
        );
        break;
      case 'udp-drop':
        note(li, ourSide(flow), `not answered: ${e.reason ?? 'guard'}`, true);
        break;
      case 'error':
        note(
          li,
          RESETS.has(e.reason) ? peerSide(flow) : ourSide(flow),
          `error ${e.reason ?? ''}${e.message ? `: ${e.message}` : ''}`,
          true,
        );
        break;
      default:
        note(li, 'center', e.type);
    }
    return li;
  }

  function gap(n, why) {
    const li = el('li', 'ev note gap center');
    li.dataset.type = 'gap';
    li.append(el('span', 't', ''));
    const track = el('span', 'track');
    track.append(el('span', 'box', `… ${n} event${n === 1 ? '' : 's'} ${why}`));
    li.append(track);
    return li;
  }

  function heads(flow) {
    const wrap = el('div', 'flow-heads');
    wrap.append(el('span', 't muted', 'time'));
    const lanes = el('div', 'lanes');
    const client = el('div', 'lane-head client', 'client');
    const server = el(
      'div',
      'lane-head server',
      `server${flow.service ? ` · ${flow.service}` : ''}`,
    );
    const weAreServer = flow.role !== 'client';
    client.append(el('code', '', weAreServer ? flow.remote : flow.local || '(wirecat)'));
    server.append(
      el(
        'code',
        '',
        weAreServer ? `${flow.transport} ${flow.local}` : `${flow.transport} ${flow.remote}`,
      ),
    );
    lanes.append(client, server);
    wrap.append(lanes);
    return wrap;
  }

  function metaText(flow) {
    const end = flow.closedAt ?? Date.now();
    return `${flow.transport} · ${flow.state} · ${bytes(flow.bytesIn)} in, ${bytes(flow.bytesOut)} out · ${((end - flow.openedAt) / 1000).toFixed(1)} s${flow.partial ? ' · watched from mid-connection' : ''}`;
  }

  /** Draw `flow` into `container`; returns a view whose update() takes later deltas. */
  function render(container, flow, options = {}) {
    container.replaceChildren();
    container.dataset.key = flow.key;
    const meta = el('p', 'flow-meta', metaText(flow));
    const list = el('ol', 'flow');
    list.setAttribute('aria-label', 'events, oldest first');
    container.append(heads(flow), meta, list);
    let last = -1;
    const rows = new Map();
    const state = { flow };

    function add(e) {
      const li = item(state.flow, e);
      const old = rows.get(e.seq);
      if (old) old.replaceWith(li);
      else list.append(li);
      rows.set(e.seq, li);
      last = Math.max(last, e.seq);
    }

    function update(delta) {
      state.flow = { ...state.flow, ...delta, openedAt: state.flow.openedAt };
      meta.textContent = metaText(state.flow);
      const events = delta.events ?? [];
      if (events.length) container.querySelector('.empty')?.remove();
      if (events.length && events[0].seq > last + 1) {
        list.append(
          gap(
            events[0].seq - last - 1,
            last < 0 ? 'forgotten (bounded history)' : 'not shown (sampled under load)',
          ),
        );
      }
      for (const e of events) add(e);
      // Bounded on the page too: at most this many rows, oldest removed first.
      const max = options.maxRows ?? 2000;
      while (list.children.length > max) {
        const first = list.firstElementChild;
        rows.delete(Number(first.dataset.seq));
        first.remove();
      }
    }

    update(flow);
    if (!flow.events.length && !options.exported)
      container.append(el('p', 'empty', 'no events yet'));
    return {
      update,
      get key() {
        return flow.key;
      },
    };
  }

  window.WirecatFlow = { render, bytes };
})();
