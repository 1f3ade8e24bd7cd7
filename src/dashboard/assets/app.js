// The dashboard page: listeners, charts, the connection list and one connection's flow, kept
// live from the server's Server-Sent Events stream (/events). Plain script, no framework.

(() => {
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const bytes = (n) => window.WirecatFlow.bytes(n);
  const SVG = 'http://www.w3.org/2000/svg';
  const MAX_ROWS = 500;

  const state = {
    services: [],
    conns: new Map(),
    rates: new Map(),
    tracked: 0,
    forgotten: 0,
    selected: undefined,
    view: undefined,
    sort: { key: 'id', dir: -1 },
    filter: '',
    source: undefined,
    dirty: false,
  };

  // ---- theme: auto (follows the system), light, dark; remembered.
  const THEMES = ['auto', 'light', 'dark'];
  function applyTheme(t) {
    if (t === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = t;
    const b = $('#theme');
    b.textContent = `theme: ${t}`;
    b.setAttribute('aria-label', `Colour theme: ${t}; press to change`);
  }
  let theme = localStorage.getItem('wirecat-theme') || 'auto';
  applyTheme(theme);
  $('#theme').addEventListener('click', () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem('wirecat-theme', theme);
    applyTheme(theme);
  });

  // ---- listeners
  function renderListeners() {
    const body = $('#listeners tbody');
    body.replaceChildren(
      ...state.services.map((s) => {
        const tr = el('tr');
        tr.dataset.service = s.service;
        tr.dataset.transport = s.transport;
        const cells = [
          s.service || '(client)',
          s.transport,
          s.addresses.join(' ') || '—',
          s.active,
          s.total,
          bytes(s.bytesIn),
          bytes(s.bytesOut),
          s.limitHits,
          s.transport === 'udp' ? s.udpDrops : '—',
          s.errors,
        ];
        for (const [i, c] of cells.entries()) tr.append(el('td', i >= 3 ? 'num' : '', String(c)));
        return tr;
      }),
    );
  }

  // ---- charts: one card per service, SVG polylines over the last rateWindow seconds.
  function mergeRates(tails) {
    for (const t of tails) {
      const s = state.rates.get(t.service);
      if (!s) continue;
      const shift = t.end - s.end;
      if (shift > 0) {
        for (const k of ['bytesIn', 'bytesOut', 'connections']) {
          const a = s[k];
          for (let i = 0; i < Math.min(shift, a.length); i++) {
            a.shift();
            a.push(0);
          }
        }
        s.end = t.end;
      }
      for (const k of ['bytesIn', 'bytesOut', 'connections']) {
        const a = s[k];
        const n = t[k].length;
        for (let i = 0; i < n; i++) a[a.length - n + i] = t[k][i];
      }
    }
    for (const t of tails) if (!state.rates.has(t.service)) state.rates.set(t.service, null);
  }

  function line(values, max, cls) {
    const p = document.createElementNS(SVG, 'polyline');
    const n = values.length;
    p.setAttribute('class', cls);
    p.setAttribute(
      'points',
      values
        .map(
          (v, i) =>
            `${((i / Math.max(1, n - 1)) * 300).toFixed(1)},${(60 - (v / max) * 56).toFixed(1)}`,
        )
        .join(' '),
    );
    return p;
  }

  function chart(values, classes, label) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 300 62');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    const max = Math.max(1, ...values.flat());
    const axis = document.createElementNS(SVG, 'line');
    axis.setAttribute('class', 'axis');
    axis.setAttribute('x1', '0');
    axis.setAttribute('x2', '300');
    axis.setAttribute('y1', '60');
    axis.setAttribute('y2', '60');
    svg.append(axis, ...values.map((v, i) => line(v, max, classes[i])));
    return { svg, max };
  }

  function renderCharts() {
    const box = $('#charts');
    const cards = [];
    for (const [service, s] of state.rates) {
      if (!s) continue;
      const card = el('div', 'chart');
      card.append(el('h3', '', service || '(client)'));
      const last = (a) => a[a.length - 2] ?? 0; // the last complete second
      const tp = chart([s.bytesIn, s.bytesOut], ['in', 'out'], `${service} throughput`);
      const p1 = el('p');
      p1.append(
        el('span', 'key-in', `in ${bytes(last(s.bytesIn))}/s`),
        ' · ',
        el('span', 'key-out', `out ${bytes(last(s.bytesOut))}/s`),
        ` · peak ${bytes(tp.max)}/s`,
      );
      const cr = chart([s.connections], ['conns'], `${service} new connections per second`);
      const p2 = el('p');
      p2.append(
        el('span', 'key-conns', `${last(s.connections)} new connections/s`),
        ` · peak ${cr.max}/s`,
      );
      card.append(tp.svg, p1, cr.svg, p2);
      cards.push(card);
    }
    box.replaceChildren(...cards);
    if (!cards.length) box.append(el('p', 'muted', 'no traffic yet'));
  }

  // ---- connections list: filter, sort, pick.
  const ageOf = (c, now) => ((c.closedAt ?? now) - c.openedAt) / 1000;
  function sortValue(c, key, now) {
    if (key === 'age') return ageOf(c, now);
    return c[key];
  }

  function renderConns() {
    const now = Date.now();
    const f = state.filter.trim().toLowerCase();
    let rows = [...state.conns.values()];
    if (f)
      rows = rows.filter((c) =>
        `${c.remote} ${c.local} ${c.service} ${c.transport} ${c.state} #${c.id}`
          .toLowerCase()
          .includes(f),
      );
    const { key, dir } = state.sort;
    rows.sort((a, b) => {
      const x = sortValue(a, key, now);
      const y = sortValue(b, key, now);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || b.openedAt - a.openedAt;
    });
    const body = $('#conns tbody');
    body.replaceChildren(
      ...rows.map((c) => {
        const tr = el('tr');
        tr.dataset.key = c.key;
        if (c.key === state.selected) tr.classList.add('selected');
        const pick = el('button', 'pick', c.id ? `#${c.id}` : 'udp');
        pick.type = 'button';
        pick.setAttribute(
          'aria-label',
          `show the flow of ${c.service || 'connection'} ${c.remote}`,
        );
        pick.addEventListener('click', () => select(c.key));
        const td0 = el('td');
        td0.append(pick);
        const stateCls = c.state.startsWith('closed')
          ? c.reason === 'ECONNRESET'
            ? 'state-reset'
            : 'state-closed'
          : '';
        tr.append(
          td0,
          el('td', 'mono', c.remote),
          el('td', '', c.service || '(client)'),
          el('td', '', c.transport),
          el('td', stateCls, c.state),
          el('td', 'num', `${ageOf(c, now).toFixed(1)} s`),
          el('td', 'num', bytes(c.bytesIn)),
          el('td', 'num', bytes(c.bytesOut)),
        );
        return tr;
      }),
    );
    $('#count').textContent =
      `${rows.length} shown · ${state.tracked} tracked${state.forgotten ? ` · ${state.forgotten} forgotten (bounded history)` : ''}`;
    for (const th of document.querySelectorAll('#conns th')) {
      const b = th.querySelector('button');
      th.setAttribute(
        'aria-sort',
        b.dataset.sort === key ? (dir > 0 ? 'ascending' : 'descending') : 'none',
      );
    }
  }

  for (const b of document.querySelectorAll('#conns th button')) {
    b.addEventListener('click', () => {
      const key = b.dataset.sort;
      state.sort = {
        key,
        dir:
          state.sort.key === key ? -state.sort.dir : key === 'remote' || key === 'service' ? 1 : -1,
      };
      renderConns();
    });
  }
  $('#filter').addEventListener('input', (e) => {
    state.filter = e.target.value;
    renderConns();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement?.tagName !== 'INPUT') {
      e.preventDefault();
      $('#filter').focus();
    }
  });

  // ---- the flow of one connection
  async function select(key) {
    state.selected = key;
    history.replaceState(null, '', `#flow=${encodeURIComponent(key)}`);
    const res = await fetch(`/api/flow?key=${encodeURIComponent(key)}`);
    const box = $('#flow');
    if (!res.ok) {
      box.replaceChildren(
        el('p', 'empty', 'that connection is no longer kept (the history is bounded)'),
      );
      return;
    }
    const flow = await res.json();
    state.view = window.WirecatFlow.render(box, flow);
    $('#flow-title').textContent =
      `— ${flow.service || 'connection'} #${flow.id || 'udp'} ${flow.remote}`;
    const exp = $('#export');
    exp.hidden = false;
    exp.href = `/api/export?key=${encodeURIComponent(key)}`;
    renderConns();
    connect(flow.seq);
  }

  // ---- the live stream
  function setStatus(text, cls) {
    const s = $('#status');
    s.textContent = text;
    s.className = `status ${cls}`;
  }

  function apply(msg) {
    state.services = msg.services;
    state.tracked = msg.tracked;
    state.forgotten = msg.forgotten;
    if (msg.full) state.conns = new Map();
    for (const c of msg.connections) state.conns.set(c.key, c);
    if (state.conns.size > MAX_ROWS) {
      const keep = [...state.conns.values()].sort(
        (a, b) => (a.state === 'open') - (b.state === 'open') || a.lastAt - b.lastAt,
      );
      for (const c of keep.slice(0, state.conns.size - MAX_ROWS)) state.conns.delete(c.key);
    }
    mergeRates(msg.rates);
    if (msg.flow && state.view && msg.flow.key === state.selected) state.view.update(msg.flow);
    if (msg.gone && msg.gone === state.selected) $('#flow-title').textContent += ' (forgotten)';
    $('#footer').textContent = `updated ${new Date(msg.now).toLocaleTimeString()}`;
    if (!state.dirty) {
      state.dirty = true;
      requestAnimationFrame(() => {
        state.dirty = false;
        renderListeners();
        renderConns();
      });
    }
  }

  let lastCharts = 0;
  let loadingRates = false;
  async function loadRates() {
    if (loadingRates) return;
    loadingRates = true;
    let snap;
    try {
      snap = await (await fetch('/api/snapshot')).json();
    } finally {
      loadingRates = false;
    }
    state.rates = new Map(snap.rates.map((r) => [r.service, r]));
    state.services = snap.services;
    state.tracked = snap.tracked;
    state.forgotten = snap.forgotten;
    for (const c of snap.connections) state.conns.set(c.key, c);
    renderListeners();
    renderConns();
    renderCharts();
  }

  function connect(from) {
    state.source?.close();
    const q = state.selected ? `?flow=${encodeURIComponent(state.selected)}&from=${from ?? 0}` : '';
    const src = new EventSource(`/events${q}`);
    state.source = src;
    src.onopen = () => setStatus('live', 'live');
    src.onerror = () => setStatus('reconnecting…', 'down');
    src.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      // A new series (a service's first traffic) needs its history once.
      if (msg.rates.some((r) => !state.rates.get(r.service))) loadRates();
      apply(msg);
      if (Date.now() - lastCharts > 1000) {
        lastCharts = Date.now();
        renderCharts();
      }
    };
  }

  loadRates().then(() => {
    const m = /^#flow=(.+)$/.exec(location.hash);
    if (m) select(decodeURIComponent(m[1]));
    else connect();
  });
})();
