// flarehose web UI: vanilla JavaScript, no dependencies, no build step.
// Every piece of data goes into the page through textContent or DOM
// attributes, never as HTML.
'use strict';

(function () {
  const SVGNS = 'http://www.w3.org/2000/svg'; // the SVG namespace name, not fetched
  const PAGE = 100;               // hits per page
  const REFRESH_MS = 10000;       // auto-refresh period
  const DEFAULT_RANGE = '24h';
  const DEFAULT_TOP = ['source.ip', 'url.domain', 'http.response.status_code', 'event.action', 'source.geo.country_iso_code'];
  const PRESETS = { '15m': 'Last 15 minutes', '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days', all: 'All time' };

  const $ = (id) => document.getElementById(id);

  // ---------- state ----------
  // The search state; the address bar mirrors it (see readURL / writeURL).
  const state = {
    q: '',
    dataset: '',
    since: DEFAULT_RANGE, // relative ("15m"), absolute (ISO) or "all"
    until: '',            // "" = now
    order: 'desc',
    refresh: false,
    view: '',             // "" = search, "deadletters" = the dead-letter view
  };
  let utc = store('utc') !== '0';
  let topFields = loadTopFields();
  let hits = [];            // loaded hits, in table order
  let total = 0;            // total matches of the current search
  let pin = null;           // {since, until}: the absolute window of page 1, reused for later pages
  const expanded = new Set(); // ids of expanded rows, kept across auto-refreshes
  let inflight = null;      // AbortController of the running search
  let moreCtl = null;       // AbortController of a "load more"
  let refreshTimer = null;
  let lastHist = null;      // last histogram response, redrawn on resize
  let datasetCounts = null; // last /api/datasets answer
  let searchError = null;   // last search error
  let searchDone = false;   // whether the current search has answered

  function store(k, v) {
    try {
      if (v === undefined) return localStorage.getItem('flarehose.' + k);
      localStorage.setItem('flarehose.' + k, v);
    } catch (e) { /* storage disabled */ }
    return null;
  }

  function loadTopFields() {
    try {
      const v = JSON.parse(store('topFields') || 'null');
      if (Array.isArray(v) && v.every((f) => typeof f === 'string')) return v;
    } catch (e) { /* ignore */ }
    return DEFAULT_TOP.slice();
  }

  // ---------- DOM helpers ----------
  // el builds an element; string children become text nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    setAttrs(e, attrs);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      } else if (k === 'text') {
        e.textContent = v;
      } else {
        e.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  function button(label, title, onClick, cls) {
    return el('button', {
      type: 'button', class: cls || 'icon', title, 'aria-label': title,
      on: { click: (ev) => { ev.stopPropagation(); onClick(ev); } },
    }, label);
  }

  let toastTimer = null;
  function toast(msg) {
    let t = document.querySelector('.toast');
    if (!t) { t = el('div', { class: 'toast', role: 'status' }); document.body.append(t); }
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 1800);
  }

  // ---------- formatting ----------
  const nf = new Intl.NumberFormat();
  const fmtCount = (n) => nf.format(n);
  function fmtCompact(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(n >= 1e10 ? 0 : 1) + 'G';
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
    if (n >= 1e3) return (n / 1e3).toFixed(n >= 1e4 ? 0 : 1) + 'k';
    return String(Math.round(n));
  }
  const pad = (n, w) => String(n).padStart(w || 2, '0');

  // parseTime reads an RFC 3339 time with any number of fraction digits.
  function parseTime(s) {
    if (typeof s !== 'string') return NaN;
    return Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  }
  function parts(ms) {
    const d = new Date(ms);
    return utc
      ? { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() }
      : { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds(), ms: d.getMilliseconds() };
  }
  function fmtTime(ms, precision) {
    if (!isFinite(ms)) return '—';
    const p = parts(ms);
    let s = `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}`;
    if (precision !== 'min') s += `:${pad(p.s)}`;
    if (precision === 'ms') s += `.${pad(p.ms, 3)}`;
    return s;
  }
  function fmtDuration(ms) {
    const units = [['d', 86400000], ['h', 3600000], ['m', 60000], ['s', 1000]];
    for (const [u, n] of units) if (ms >= n && ms % n === 0) return (ms / n) + u;
    for (const [u, n] of units) if (ms >= n) return (ms / n).toFixed(1).replace(/\.0$/, '') + u;
    return ms + 'ms';
  }
  const tzName = () => (utc ? 'UTC' : 'local time');

  // ---------- URL <-> state ----------
  function readURL() {
    const p = new URLSearchParams(location.search);
    state.q = p.get('q') || '';
    state.dataset = p.get('dataset') || '';
    state.since = p.get('since') || DEFAULT_RANGE;
    state.until = p.get('until') || '';
    state.order = p.get('order') === 'asc' ? 'asc' : 'desc';
    state.refresh = p.get('refresh') === '1';
    state.view = p.get('view') === 'deadletters' ? 'deadletters' : '';
  }
  function writeURL(push) {
    const p = new URLSearchParams();
    if (state.q) p.set('q', state.q);
    if (state.dataset) p.set('dataset', state.dataset);
    if (state.since !== DEFAULT_RANGE || state.until) p.set('since', state.since);
    if (state.until) p.set('until', state.until);
    if (state.order === 'asc') p.set('order', 'asc');
    if (state.refresh) p.set('refresh', '1');
    if (state.view) p.set('view', state.view);
    const qs = p.toString();
    const url = location.pathname + (qs ? '?' + qs : '');
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  }
  const isRelative = () => !state.until && (state.since === 'all' || /^(now)?-?[0-9.]+(ms|s|m|h|d|w)/i.test(state.since));

  // filterParams are the parameters every endpoint shares; with a pin, the
  // time window is the one page 1 was computed for.
  function filterParams(p) {
    const v = new URLSearchParams();
    if (state.q) v.set('q', state.q);
    if (state.dataset) v.set('dataset', state.dataset);
    const since = p ? p.since : (state.since === 'all' ? '' : state.since);
    const until = p ? p.until : state.until;
    if (since) v.set('since', since);
    if (until) v.set('until', until);
    return v;
  }

  // ---------- API ----------
  async function api(path, params, signal) {
    const qs = params ? params.toString() : '';
    const resp = await fetch('api/' + path + (qs ? '?' + qs : ''), { signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
    if (!resp.ok || !body) {
      const err = new Error((body && body.error) || `HTTP ${resp.status} ${resp.statusText}`);
      err.status = resp.status;
      throw err;
    }
    return body;
  }
  const aborted = (e) => e && e.name === 'AbortError';

  // ---------- controls ----------
  // syncControls shows the state in the controls; keepQuery leaves the
  // search box alone (an auto-refresh must not eat a query being typed).
  function syncControls(keepQuery) {
    const q = $('q');
    if (!keepQuery && (document.activeElement !== q || q.value.trim() === '')) q.value = state.q;
    // time range
    const range = $('range');
    for (const o of Array.from(range.options)) if (o.dataset.extra) o.remove();
    let v = state.until ? 'custom' : state.since;
    if (!state.until && !PRESETS[v]) {
      if (isRelative()) {
        range.insertBefore(el('option', { value: v, 'data-extra': '1' }, 'Last ' + v), range.querySelector('option[value="custom"]'));
      } else {
        v = 'custom';
      }
    }
    range.value = v;
    $('range-label').textContent = rangeLabel();
    // dataset
    const ds = $('dataset');
    if (state.dataset && !Array.from(ds.options).some((o) => o.value === state.dataset)) {
      ds.append(el('option', { value: state.dataset }, state.dataset));
    }
    ds.value = state.dataset;
    $('refresh').setAttribute('aria-pressed', String(state.refresh));
    $('tz').textContent = utc ? 'UTC' : 'Local';
    $('order').textContent = state.order === 'asc' ? 'Time ↑' : 'Time ↓';
    document.title = state.view === 'deadletters' ? 'Dead letters · flarehose' : (state.q ? state.q + ' · flarehose' : 'flarehose');
    for (const li of $('datasets').children) li.classList.toggle('active', li.dataset.value === state.dataset);
  }

  function rangeLabel() {
    if (!state.until && PRESETS[state.since]) return '';
    if (isRelative()) return 'Last ' + state.since;
    const a = parseTime(state.since), b = state.until ? parseTime(state.until) : NaN;
    const fa = isFinite(a) ? fmtTime(a) : state.since;
    const fb = isFinite(b) ? fmtTime(b) : (state.until || 'now');
    return `${fa} → ${fb} ${tzName()}`;
  }

  function setRefresh(on) {
    state.refresh = on;
    clearInterval(refreshTimer);
    refreshTimer = null;
    if (on) {
      refreshTimer = setInterval(() => {
        if (document.visibilityState !== 'visible' || inflight || moreCtl) return;
        run({ auto: true });
      }, REFRESH_MS);
    }
  }

  // ---------- running a search ----------
  // run fetches everything for the current state. opts.push adds a history
  // entry; opts.auto is an auto-refresh (keeps expanded rows and loaded pages).
  function run(opts) {
    opts = opts || {};
    if (inflight) inflight.abort();
    if (moreCtl) { moreCtl.abort(); moreCtl = null; }
    const ctl = new AbortController();
    inflight = ctl;
    const live = (f) => (x) => { if (!ctl.signal.aborted) f(x); };
    writeURL(!!opts.push);
    syncControls(!!opts.auto);
    applyView();
    if (state.view === 'deadletters') {
      inflight = null;
      return loadDeadLetters(opts.auto);
    }
    document.body.classList.add('loading');
    if (!opts.auto) {
      expanded.clear();
      searchDone = false;
    }

    const base = filterParams(null);
    const sp = new URLSearchParams(base);
    sp.set('limit', String(opts.auto ? Math.min(Math.max(PAGE, hits.length), 1000) : PAGE));
    if (state.order === 'asc') sp.set('order', 'asc');
    const hp = new URLSearchParams(base);
    hp.set('buckets', String(bucketCount()));

    const tasks = [
      api('search', sp, ctl.signal).then(live((r) => { searchError = null; showQueryError(null); renderResults(r, false); }),
        live((e) => { if (!aborted(e)) searchFailed(e); })),
      api('histogram', hp, ctl.signal).then(live(renderHistogram),
        live((e) => { if (!aborted(e)) histogramFailed(e); })),
      loadTop(base, ctl.signal, live),
      loadDatasets(ctl.signal, live),
    ];
    return Promise.allSettled(tasks).then(() => {
      if (inflight === ctl) {
        inflight = null;
        document.body.classList.remove('loading');
      }
    });
  }

  function loadMore() {
    if (moreCtl || inflight || !pin) return;
    const ctl = new AbortController();
    moreCtl = ctl;
    const p = filterParams(pin);
    p.set('limit', String(PAGE));
    p.set('offset', String(hits.length));
    if (state.order === 'asc') p.set('order', 'asc');
    $('load-more').disabled = true;
    document.body.classList.add('loading');
    api('search', p, ctl.signal).then((r) => {
      if (!ctl.signal.aborted) renderResults(r, true);
    }, (e) => {
      if (!aborted(e)) toast('Loading more failed: ' + e.message);
    }).finally(() => {
      if (moreCtl === ctl) moreCtl = null;
      $('load-more').disabled = false;
      if (!inflight) document.body.classList.remove('loading');
    });
  }

  // ---------- results ----------
  function renderResults(r, append) {
    searchDone = true;
    const tbody = $('hits');
    total = r.total || 0;
    if (!append) {
      hits = [];
      tbody.replaceChildren();
      pin = { since: r.since || '', until: r.until || r.now || '' };
    }
    for (const h of r.hits || []) {
      h.flat = flatten(h.doc);
      hits.push(h);
      appendRow(tbody, h);
    }
    const summary = $('summary');
    summary.replaceChildren(
      document.createTextNode(`${fmtCount(total)} ${total === 1 ? 'event' : 'events'}`),
      el('span', { class: 'took' }, typeof r.took_ms === 'number' ? `${r.took_ms < 10 ? r.took_ms.toFixed(1) : Math.round(r.took_ms)} ms` : ''),
    );
    const more = hits.length < total && (r.hits || []).length > 0;
    $('load-more').hidden = !more;
    $('load-more').textContent = `Load ${fmtCount(Math.min(PAGE, total - hits.length))} more`;
    $('page-info').textContent = hits.length ? `Showing ${fmtCount(hits.length)} of ${fmtCount(total)}` : '';
    $('results').hidden = hits.length === 0;
    updateState();
  }

  function appendRow(tbody, h) {
    const t = parseTime(h.time);
    const tr = el('tr', { class: 'hit', tabindex: '0', 'aria-expanded': 'false' },
      el('td', { class: 'c-time', title: h.time }, fmtTime(t, 'ms')),
      el('td', { class: 'c-ds' }, el('span', { class: 'ds', title: h.dataset }, h.dataset || '—')),
      el('td', { class: 'c-sum' }, summaryLine(h)),
    );
    const key = h.id || h.time;
    tr.addEventListener('click', () => {
      const sel = window.getSelection();
      if (sel && sel.toString() && tr.contains(sel.anchorNode)) return; // selecting text, not opening
      toggleRow(tr, h, key);
    });
    tr.addEventListener('keydown', (ev) => {
      if (ev.target !== tr) return;
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggleRow(tr, h, key); }
      if (ev.key === 'ArrowDown') { ev.preventDefault(); nextRow(tr, 1); }
      if (ev.key === 'ArrowUp') { ev.preventDefault(); nextRow(tr, -1); }
    });
    tbody.append(tr);
    if (expanded.has(key)) openRow(tr, h);
  }

  function nextRow(tr, dir) {
    let n = dir > 0 ? tr.nextElementSibling : tr.previousElementSibling;
    while (n && !n.classList.contains('hit')) n = dir > 0 ? n.nextElementSibling : n.previousElementSibling;
    if (n) n.focus();
  }

  function toggleRow(tr, h, key) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('detail')) {
      next.remove();
      tr.classList.remove('open');
      tr.setAttribute('aria-expanded', 'false');
      expanded.delete(key);
    } else {
      openRow(tr, h);
      expanded.add(key);
    }
  }

  function openRow(tr, h) {
    tr.classList.add('open');
    tr.setAttribute('aria-expanded', 'true');
    tr.after(el('tr', { class: 'detail' }, el('td', { colspan: '3' }, detailBox(h))));
  }

  function detailBox(h) {
    const json = JSON.stringify(h.doc, null, 2);
    const fields = fieldsTable(h);
    const pre = el('pre', { class: 'json', hidden: true }, json);
    const tabF = el('button', { type: 'button', class: 'tab', 'aria-selected': 'true' }, 'Fields');
    const tabJ = el('button', { type: 'button', class: 'tab', 'aria-selected': 'false' }, 'JSON');
    const show = (which) => {
      fields.hidden = which !== 'fields';
      pre.hidden = which !== 'json';
      tabF.setAttribute('aria-selected', String(which === 'fields'));
      tabJ.setAttribute('aria-selected', String(which === 'json'));
    };
    tabF.addEventListener('click', () => show('fields'));
    tabJ.addEventListener('click', () => show('json'));
    const copy = el('button', { type: 'button', title: 'Copy the event as JSON' }, 'Copy JSON');
    copy.addEventListener('click', () => copyText(json));
    return el('div', { class: 'detail-box' },
      el('div', { class: 'detail-head' }, tabF, tabJ, el('span', { class: 'spacer' }),
        el('span', { class: 'id', title: 'Event id' }, h.id || ''), copy),
      fields, pre);
  }

  function copyText(s) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(s).then(() => toast('Copied'), () => toast('Copy failed: select the text instead'));
    } else {
      toast('Clipboard not available: select the text instead');
    }
  }

  function fieldsTable(h) {
    const tbody = el('tbody');
    const keys = Object.keys(h.flat).sort();
    for (const k of keys) {
      const v = h.flat[k];
      const vals = Array.isArray(v) ? v : [v];
      const cell = el('td', { class: 'val' });
      if (Array.isArray(v) && v.length === 0) cell.append(el('span', { class: 'v-null' }, '[]'));
      for (const item of vals) {
        const row = el('div', { class: 'val-item' });
        if (isScalar(item) && item !== null) {
          row.append(
            button('+', `Filter for ${k}: ${String(item)}`, () => addFilter(k, item, false)),
            button('−', `Filter out ${k}: ${String(item)}`, () => addFilter(k, item, true)),
          );
        }
        row.append(valueNode(item));
        cell.append(row);
      }
      tbody.append(el('tr', null,
        el('td', { class: 'key' }, el('span', null, k), button('top', `Show the top values of ${k} in the side panel`, () => addTopField(k), 'icon top')),
        cell,
      ));
    }
    if (!keys.length) tbody.append(el('tr', null, el('td', { colspan: '2', class: 'v-null' }, 'This event has no fields.')));
    return el('table', { class: 'kv' }, tbody);
  }

  function valueNode(v) {
    if (v === null) return el('span', { class: 'v-null' }, 'null');
    if (typeof v === 'number') return el('span', { class: 'v-num' }, String(v));
    if (typeof v === 'boolean') return el('span', { class: 'v-bool' }, String(v));
    if (typeof v === 'string') return el('span', null, v);
    return el('span', null, JSON.stringify(v));
  }
  const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

  // flatten turns a (nested or dotted) ECS document into {"a.b.c": value}.
  // Arrays of scalars stay arrays; arrays holding objects are kept as JSON.
  function flatten(doc) {
    const out = {};
    const walk = (v, prefix) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const ks = Object.keys(v);
        if (!ks.length && prefix) out[prefix] = {};
        for (const k of ks) walk(v[k], prefix ? prefix + '.' + k : k);
      } else {
        out[prefix] = v; // scalars, and arrays (kept whole)
      }
    };
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) walk(doc, '');
    else out['(document)'] = doc;
    return out;
  }

  // summaryLine shows the key ECS fields of an event on one line.
  function summaryLine(h) {
    const f = h.flat;
    const get = (k) => { const v = f[k]; return Array.isArray(v) ? (v.length ? v[0] : undefined) : v; };
    const has = (k) => { const v = get(k); return v !== undefined && v !== null && v !== ''; };
    const frag = document.createDocumentFragment();
    let n = 0;
    const tok = (cls, text, title) => { frag.append(el('span', { class: 'tok ' + cls, title }, String(text))); n++; };
    const kv = (k, label) => {
      if (!has(k)) return;
      frag.append(el('span', { class: 'tok', title: k }, el('span', { class: 'k' }, (label || k) + ' '), String(get(k))));
      n++;
    };
    if (has('event.action')) tok('action', get('event.action'), 'event.action');
    if (has('http.request.method')) tok('method', get('http.request.method'), 'http.request.method');
    let url = get('url.original');
    if (!url && has('url.path')) url = (has('url.domain') ? get('url.domain') : '') + get('url.path') + (has('url.query') ? '?' + get('url.query') : '');
    if (url) tok('url', url, 'url.original');
    if (has('http.response.status_code')) {
      const c = Number(get('http.response.status_code'));
      tok('s' + Math.floor(c / 100), c, 'http.response.status_code');
    }
    if (has('source.ip')) {
      tok('ip', get('source.ip') + (has('source.geo.country_iso_code') ? ' (' + get('source.geo.country_iso_code') + ')' : ''), 'source.ip');
    }
    kv('user.email', 'user');
    kv('rule.name', 'rule');
    kv('dns.question.name', 'dns');
    kv('destination.ip', 'dst');
    kv('message');
    if (n < 2) {
      // Nothing familiar: show the first few fields as key value.
      const skip = /^(@timestamp|ecs\.|data_stream\.|event\.(dataset|module|kind|category|type|ingested|original)|tags$|input\.)/;
      for (const k of Object.keys(f).sort()) {
        if (n >= 5) break;
        if (skip.test(k) || !isScalar(f[k]) || f[k] === null || f[k] === '') continue;
        kv(k, k.split('.').slice(-2).join('.'));
      }
    }
    if (!n) frag.append(el('span', { class: 'tok dim' }, '(no summary fields: click to see the event)'));
    return frag;
  }

  // ---------- filters ----------
  // clause builds field:value in the query language; values are quoted
  // unless they are numbers or booleans.
  function clause(field, value) {
    if (typeof value === 'number' || typeof value === 'boolean') return `${field}:${value}`;
    const s = String(value);
    if (/^-?\d+(\.\d+)?$/.test(s)) return `${field}:${s}`;
    return `${field}:"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }

  function addFilter(field, value, negate) {
    const c = (negate ? 'NOT ' : '') + clause(field, value);
    const q = state.q.trim();
    if (q === c || q.includes(' AND ' + c) || q.startsWith(c + ' AND ')) return;
    if (!q) state.q = c;
    else if (/\bor\b/i.test(q)) state.q = `(${q}) AND ${c}`;
    else state.q = `${q} AND ${c}`;
    $('q').value = state.q;
    run({ push: true });
  }

  function setDataset(name) {
    state.dataset = state.dataset === name ? '' : name;
    run({ push: true });
  }

  // ---------- histogram ----------
  function bucketCount() {
    const w = $('histogram').clientWidth || 900;
    return Math.max(20, Math.min(120, Math.floor(w / 11)));
  }

  function renderHistogram(h) {
    lastHist = h;
    drawHistogram();
  }

  function histogramFailed(e) {
    lastHist = null;
    const box = $('histogram');
    box.replaceChildren(el('div', { class: 'msg' }, e.status === 400 ? '' : 'Chart unavailable: ' + e.message));
  }

  const TIME_STEPS = [1e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3, 90 * 86400e3, 365 * 86400e3];

  function niceMax(n) {
    if (n <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(n)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
    return 10 * p;
  }

  function drawHistogram() {
    const box = $('histogram');
    box.replaceChildren();
    const h = lastHist;
    if (!h) return;
    const W = Math.max(300, box.clientWidth), H = 150;
    const padL = 44, padR = 10, padT = 10, padB = 22;
    const pw = W - padL - padR, ph = H - padT - padB;
    const iv = h.interval_ms > 0 ? h.interval_ms : 60000;
    const buckets = (h.buckets || []).map((b) => ({ t: parseTime(b.start), c: b.count })).filter((b) => isFinite(b.t)).sort((a, b) => a.t - b.t);
    const now = isFinite(parseTime(h.now)) ? parseTime(h.now) : Date.now();
    let d0 = parseTime(h.since), d1 = parseTime(h.until);
    if (!isFinite(d1)) d1 = now;
    if (buckets.length) {
      if (!isFinite(d0)) d0 = buckets[0].t;
      d0 = Math.min(d0, buckets[0].t);
      d1 = Math.max(d1, buckets[buckets.length - 1].t + iv);
    }
    if (!isFinite(d0)) d0 = d1 - 86400000;
    if (d1 <= d0) d1 = d0 + iv;
    const X = (t) => padL + ((t - d0) / (d1 - d0)) * pw;
    const T = (x) => d0 + ((x - padL) / pw) * (d1 - d0);
    const max = niceMax(buckets.reduce((m, b) => Math.max(m, b.c), 0));
    const Y = (c) => padT + ph - (c / max) * ph;
    const byStart = new Map(buckets.map((b) => [b.t, b.c]));
    const origin = buckets.length ? buckets[0].t : d0;
    const bucketAt = (t) => origin + Math.floor((t - origin) / iv) * iv;

    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'Events over time' });
    // y grid: 0, the middle (when it is a whole count) and the top
    const any = buckets.some((b) => b.c > 0);
    for (const frac of !any ? [0] : (max % 2 === 0 ? [0, 0.5, 1] : [0, 1])) {
      const y = Math.round(Y(max * frac)) + 0.5;
      s.append(svg('line', { class: 'grid', x1: padL, x2: W - padR, y1: y, y2: y }));
      const lab = svg('text', { class: 'axis', x: padL - 6, y: y + 4, 'text-anchor': 'end' });
      lab.textContent = fmtCompact(max * frac);
      s.append(lab);
    }
    // x ticks
    const step = TIME_STEPS.find((st) => (d1 - d0) / st <= Math.max(2, Math.floor(pw / 110))) || TIME_STEPS[TIME_STEPS.length - 1];
    const off = utc ? 0 : -new Date(d0).getTimezoneOffset() * 60000;
    for (let t = Math.ceil((d0 + off) / step) * step - off; t <= d1; t += step) {
      const x = X(t);
      if (x < padL + 20 || x > W - padR - 20) continue;
      const p = parts(t);
      let label;
      if (step >= 86400e3) label = `${pad(p.mo)}-${pad(p.d)}`;
      else if (step < 60e3) label = `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
      else if (d1 - d0 > 86400e3 || (p.h === 0 && p.mi === 0)) label = `${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}`;
      else label = `${pad(p.h)}:${pad(p.mi)}`;
      s.append(svg('line', { class: 'grid', x1: Math.round(x) + 0.5, x2: Math.round(x) + 0.5, y1: padT + ph, y2: padT + ph + 4 }));
      const lab = svg('text', { class: 'axis', x, y: H - 6, 'text-anchor': 'middle' });
      lab.textContent = label;
      s.append(lab);
    }
    const hoverCol = svg('rect', { class: 'hover-col', x: 0, y: padT, width: 0, height: ph, visibility: 'hidden' });
    s.append(hoverCol);
    // bars
    const bars = new Map();
    for (const b of buckets) {
      if (b.c <= 0) continue;
      const x0 = X(b.t), x1 = X(b.t + iv);
      const gap = x1 - x0 > 4 ? 1 : 0;
      const r = svg('rect', { class: 'bar', x: x0 + gap / 2, y: Y(b.c), width: Math.max(1, x1 - x0 - gap), height: Math.max(1, padT + ph - Y(b.c)) });
      bars.set(b.t, r);
      s.append(r);
    }
    if (now > d0 && now < d1 && !state.until) {
      const x = Math.round(X(now)) + 0.5;
      s.append(svg('line', { class: 'now', x1: x, x2: x, y1: padT, y2: padT + ph }));
    }
    const sel = svg('rect', { class: 'sel', x: 0, y: padT, width: 0, height: ph, visibility: 'hidden' });
    s.append(sel);
    const overlay = svg('rect', { class: 'overlay', x: padL, y: 0, width: pw, height: padT + ph });
    s.append(overlay);
    box.append(s);

    if (!any) {
      box.append(el('div', { class: 'msg' }, 'No events in this time range'));
    }

    // interaction: hover shows the bucket, drag selects a range, click zooms into a bucket
    const tip = $('tooltip');
    let hovered = null;
    let drag = null;
    const localX = (ev) => {
      const r = s.getBoundingClientRect();
      return Math.min(padL + pw, Math.max(padL, ((ev.clientX - r.left) / r.width) * W));
    };
    const hover = (ev) => {
      const x = localX(ev);
      const bt = bucketAt(T(x));
      if (hovered !== null && bars.get(hovered)) bars.get(hovered).classList.remove('hover');
      hovered = bt;
      if (bars.get(bt)) bars.get(bt).classList.add('hover');
      const x0 = Math.max(padL, X(bt)), x1 = Math.min(padL + pw, X(bt + iv));
      setAttrs(hoverCol, { x: x0, width: Math.max(1, x1 - x0), visibility: 'visible' });
      const c = byStart.get(bt) || 0;
      tip.replaceChildren(
        el('div', null, `${fmtTime(bt, iv < 60000 ? 's' : 'min')} – ${fmtTime(bt + iv, iv < 60000 ? 's' : 'min').slice(11)} ${utc ? 'UTC' : ''}`),
        el('div', null, el('span', { class: 'n' }, fmtCount(c)), c === 1 ? ' event' : ' events', el('span', { class: 'hint' }, ` · ${fmtDuration(iv)} bucket`)),
      );
      tip.hidden = false;
      const tw = tip.offsetWidth;
      tip.style.left = Math.min(window.innerWidth - tw - 8, ev.clientX + 14) + 'px';
      tip.style.top = (ev.clientY + 16) + 'px';
    };
    const unhover = () => {
      tip.hidden = true;
      hoverCol.setAttribute('visibility', 'hidden');
      if (hovered !== null && bars.get(hovered)) bars.get(hovered).classList.remove('hover');
      hovered = null;
    };
    overlay.addEventListener('pointermove', (ev) => {
      hover(ev);
      if (drag) {
        const x = localX(ev);
        setAttrs(sel, { x: Math.min(drag, x), width: Math.abs(x - drag), visibility: 'visible' });
      }
    });
    overlay.addEventListener('pointerleave', () => { if (!drag) unhover(); });
    overlay.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = localX(ev);
      overlay.setPointerCapture(ev.pointerId);
    });
    overlay.addEventListener('pointerup', (ev) => {
      if (drag === null) return;
      const x = localX(ev);
      const a = Math.min(drag, x), b = Math.max(drag, x);
      drag = null;
      sel.setAttribute('visibility', 'hidden');
      unhover();
      if (b - a >= 4) zoomTo(T(a), T(b));
      else { const bt = bucketAt(T(x)); zoomTo(bt, bt + iv); }
    });
    overlay.addEventListener('pointercancel', () => { drag = null; sel.setAttribute('visibility', 'hidden'); unhover(); });
  }

  const iso = (ms) => new Date(Math.round(ms)).toISOString().replace('.000Z', 'Z');

  function zoomTo(a, b) {
    if (!(b > a)) return;
    if (b - a < 1000) { const m = (a + b) / 2; a = m - 500; b = m + 500; }
    if (b - a > 60000) { a = Math.floor(a / 1000) * 1000; b = Math.ceil(b / 1000) * 1000; } // tidy URLs
    state.since = iso(a);
    state.until = iso(b);
    $('custom-range').hidden = true;
    run({ push: true });
  }

  function zoomOut() {
    let a, b;
    if (lastHist) {
      a = parseTime(lastHist.since);
      b = parseTime(lastHist.until);
      if (!isFinite(b)) b = parseTime(lastHist.now);
    }
    if (!isFinite(a) || !isFinite(b)) {
      state.since = 'all';
      state.until = '';
      run({ push: true });
      return;
    }
    const span = b - a;
    a -= span / 2;
    b += span / 2;
    const now = Date.now();
    if (b >= now) {
      // Reaching the present: switch to a relative range, so it stays live.
      const rel = ['15m', '1h', '24h', '7d', '30d'].find((r) => ({ m: 60e3, h: 3600e3, d: 86400e3 })[r.slice(-1)] * parseInt(r, 10) >= now - a);
      state.since = rel || 'all';
      state.until = '';
    } else {
      state.since = iso(a);
      state.until = iso(b);
    }
    run({ push: true });
  }

  // ---------- side panel: datasets and top values ----------
  function loadDatasets(signal, live) {
    return api('datasets', null, signal).then(live((r) => {
      datasetCounts = r.datasets || [];
      renderDatasets();
    }), live((e) => {
      if (aborted(e)) return;
      datasetCounts = null;
      $('datasets').replaceChildren(el('li', { class: 'note' }, e.status === 503 ? 'No store configured.' : 'Unavailable: ' + e.message));
    }));
  }

  function renderDatasets() {
    const list = $('datasets');
    const counts = datasetCounts || [];
    const max = counts.reduce((m, c) => Math.max(m, c.count), 0);
    const sum = counts.reduce((m, c) => m + c.count, 0);
    list.replaceChildren();
    for (const c of counts) {
      const li = el('li', { 'data-value': c.value, title: `Show only ${c.value}`, tabindex: '0' },
        el('span', { class: 'fill' }),
        el('span', { class: 'v' }, c.value),
        el('span', { class: 'n' }, fmtCount(c.count)));
      li.firstChild.style.width = (max ? (c.count / max) * 100 : 0) + '%';
      li.classList.toggle('active', c.value === state.dataset);
      li.addEventListener('click', () => setDataset(c.value));
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') setDataset(c.value); });
      list.append(li);
    }
    if (!counts.length) list.append(el('li', { class: 'note' }, 'Nothing stored yet.'));
    // dataset selector, with counts
    const ds = $('dataset');
    ds.replaceChildren(el('option', { value: '' }, `All datasets${sum ? ' (' + fmtCompact(sum) + ')' : ''}`));
    for (const c of counts) ds.append(el('option', { value: c.value }, `${c.value} (${fmtCompact(c.count)})`));
    if (state.dataset && !counts.some((c) => c.value === state.dataset)) ds.append(el('option', { value: state.dataset }, state.dataset));
    ds.value = state.dataset;
    updateState();
  }

  const facets = new Map(); // field -> {section, list}

  function buildFacets() {
    const box = $('top');
    box.replaceChildren();
    facets.clear();
    for (const f of topFields) {
      const list = el('ul', { class: 'vals' }, el('li', { class: 'note' }, '…'));
      const section = el('div', { class: 'facet' },
        el('div', { class: 'facet-head' }, el('h3', { title: f }, f),
          button('×', `Remove ${f} from the panel`, () => removeTopField(f))),
        list);
      facets.set(f, { section, list });
      box.append(section);
    }
    if (!topFields.length) {
      box.append(el('div', { class: 'note hint' }, 'No fields. Add one below, or reset to the defaults.'),
        button('Reset', 'Show the default fields', () => { topFields = DEFAULT_TOP.slice(); saveTopFields(); buildFacets(); run(); }, 'btn'));
    }
  }

  function loadTop(base, signal, live) {
    return Promise.allSettled(topFields.map((f) => {
      const p = new URLSearchParams(base);
      p.set('field', f);
      p.set('limit', '8');
      return api('top', p, signal).then(live((r) => renderFacet(f, r.values || [])), live((e) => { if (!aborted(e)) renderFacet(f, null, e); }));
    }));
  }

  function renderFacet(field, values, err) {
    const fc = facets.get(field);
    if (!fc) return;
    const list = fc.list;
    list.replaceChildren();
    if (err) {
      list.append(el('li', { class: 'note' }, err.status === 400 ? '—' : 'Unavailable: ' + err.message));
      return;
    }
    if (!values.length) {
      list.append(el('li', { class: 'note' }, 'No values'));
      return;
    }
    const max = values.reduce((m, v) => Math.max(m, v.count), 0);
    for (const v of values) {
      const empty = v.value === '';
      const li = el('li', { title: `Filter for ${field}: ${v.value}`, tabindex: '0' },
        el('span', { class: 'fill' }),
        el('span', { class: 'v' + (empty ? ' empty' : '') }, empty ? '(empty)' : v.value),
        button('−', `Filter out ${field}: ${v.value}`, () => addFilter(field, v.value, true)),
        el('span', { class: 'n' }, fmtCount(v.count)));
      li.firstChild.style.width = (max ? (v.count / max) * 100 : 0) + '%';
      li.addEventListener('click', () => addFilter(field, v.value, false));
      li.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && ev.target === li) addFilter(field, v.value, false); });
      list.append(li);
    }
  }

  function saveTopFields() { store('topFields', JSON.stringify(topFields)); }

  function addTopField(f) {
    f = f.trim();
    if (!/^[A-Za-z0-9_.@-]+$/.test(f)) { toast('Not a field name: ' + f); return; }
    if (!topFields.includes(f)) {
      topFields.push(f);
      saveTopFields();
      buildFacets();
      run();
    }
    const fc = facets.get(f);
    if (fc) fc.section.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  function removeTopField(f) {
    topFields = topFields.filter((x) => x !== f);
    saveTopFields();
    const fc = facets.get(f);
    if (fc) fc.section.remove();
    facets.delete(f);
    if (!topFields.length) buildFacets();
  }

  // ---------- empty and error states ----------
  function showQueryError(msg) {
    const box = $('q-error');
    // "query: column N: what" becomes the query with a caret under column N.
    const m = msg && /^query: column (\d+): ([\s\S]*)$/.exec(msg);
    const col = m ? parseInt(m[1], 10) : 0;
    if (m && state.q.length <= 160 && !state.q.includes('\n') && col >= 1 && col <= state.q.length + 1) {
      box.textContent = `${state.q}\n${' '.repeat(col - 1)}^ ${m[2]}`;
    } else {
      box.textContent = msg || '';
    }
    box.hidden = !msg;
    $('q').classList.toggle('invalid', !!msg);
  }

  function searchFailed(e) {
    searchDone = true;
    searchError = e;
    hits = [];
    total = 0;
    pin = null;
    $('hits').replaceChildren();
    $('results').hidden = true;
    $('load-more').hidden = true;
    $('page-info').textContent = '';
    $('summary').textContent = e.status === 400 ? 'Query error' : 'Search failed';
    if (e.status === 400) showQueryError(e.message);
    updateState();
  }

  // updateState fills the area above the table: errors, or why nothing matched.
  function updateState() {
    const box = $('results-state');
    if (!searchError && !searchDone) return; // keep what is shown until the search answers
    box.replaceChildren();
    if (searchError) {
      const e = searchError;
      if (e.status === 400) {
        box.append(el('div', { class: 'state error' }, el('h2', null, 'The query could not be run'),
          el('p', null, 'Fix the query (the problem is shown under the search box) and press Enter. Press ', el('kbd', null, '?'), ' for the syntax.')));
      } else if (e.status === 503) {
        box.append(el('div', { class: 'state error' }, el('h2', null, 'Search is not available'), el('p', null, e.message)));
      } else {
        box.append(el('div', { class: 'state error' }, el('h2', null, 'Search failed'), el('p', null, e.message),
          el('p', null, e.status ? `The server answered HTTP ${e.status}.` : 'Could the flarehose server be down? The page retries on the next search.')));
      }
      return;
    }
    if (!searchDone || hits.length) return;
    const nothingStored = Array.isArray(datasetCounts) && datasetCounts.reduce((m, c) => m + c.count, 0) === 0;
    if (nothingStored) {
      box.append(onboarding());
    } else if (total === 0) {
      const tips = el('ul', null,
        el('li', null, 'Widen the time range (', button('Last 7 days', 'Search the last 7 days', () => { state.since = '7d'; state.until = ''; run({ push: true }); }, 'btn'), ') or pick ', el('strong', null, 'All time'), '.'));
      if (state.dataset) tips.append(el('li', null, 'Search all datasets, not only ', el('code', null, state.dataset), ' (', button('all datasets', 'Clear the dataset filter', () => setDataset(''), 'btn'), ').'));
      if (state.q) tips.append(el('li', null, 'Field names are ECS names such as ', el('code', null, 'source.ip'), ' or ', el('code', null, 'http.response.status_code'), ': open an event to see its fields.'));
      box.append(el('div', { class: 'state' }, el('h2', null, 'No events match'), tips));
    }
  }

  function onboarding() {
    const host = location.hostname && !/^(127\.|localhost$|\[?::1)/.test(location.hostname) ? location.hostname : 'logs.example.com';
    const dest = `https://${host}:9560/logpush/http_requests?header_X-Flarehose-Secret=<FLAREHOSE_SECRET>`;
    return el('div', { class: 'state' },
      el('h2', null, 'No events stored yet'),
      el('p', null, 'flarehose stores the logs Cloudflare pushes to it. To start receiving them:'),
      el('ol', null,
        el('li', null, 'Run ', el('code', null, 'flarehose serve'), ' with a secret in ', el('code', null, 'FLAREHOSE_SECRET'),
          '. Its Logpush receiver (port 9560 by default) must be reachable by Cloudflare over HTTPS with a trusted certificate: put it behind your TLS proxy, or give it a certificate in the config file.'),
        el('li', null, 'In the Cloudflare dashboard open ', el('strong', null, 'Analytics & Logs → Logpush'), ' (or use the API) and create a job with an HTTP destination, one path per dataset, the secret in a ', el('code', null, 'header_'), ' parameter:',
          el('div', { class: 'dest' }, el('code', null, dest))),
        el('li', null, 'Pick the dataset (http_requests, firewall_events, dns_logs, audit_logs…) and its fields: all fields give the most complete ECS events. Cloudflare first sends a validation file; events appear here within a minute or two.')),
      el('p', null, 'Just looking around? ', el('code', null, 'flarehose demo'), ' fills a store with simulated Cloudflare traffic. Everything else: ', el('code', null, 'flarehose --help'), '.'));
  }

  // ---------- custom range ----------
  function toLocalInput(ms) {
    if (!isFinite(ms)) return '';
    const p = parts(ms);
    return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
  }
  function fromLocalInput(s) {
    if (!s) return NaN;
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(s);
    if (!m) return NaN;
    const a = [+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)];
    return utc ? Date.UTC(...a) : new Date(...a).getTime();
  }
  function openCustom() {
    const f = $('custom-range');
    let a = NaN, b = NaN;
    if (lastHist) {
      a = parseTime(lastHist.since);
      b = parseTime(lastHist.until);
      if (!isFinite(b)) b = parseTime(lastHist.now);
    }
    if (!isFinite(b)) b = Date.now();
    if (!isFinite(a)) a = b - 86400000;
    $('from').value = toLocalInput(a);
    $('to').value = toLocalInput(b);
    $('custom-tz').textContent = `(${tzName()})`;
    f.hidden = false;
    $('from').focus();
  }

  // ---------- dead letters ----------
  // Records that could not be stored (GET api/deadletters). The badge
  // counts those not yet replayed in the last 24 hours.
  const DL_PAGE = 200;
  const dl = { since: '24h', dataset: '', reason: '', state: '', ctl: null, open: new Set(), last: null };

  function applyView() {
    const on = state.view === 'deadletters';
    $('dl-view').hidden = !on;
    $('search-view').hidden = on;
    $('dl-btn').setAttribute('aria-pressed', String(on));
  }

  function setView(view) {
    if (state.view === view) return;
    state.view = view;
    run({ push: true });
  }

  function loadDeadLetterCount() {
    const p = new URLSearchParams({ since: '24h', state: 'pending', limit: '0' });
    return api('deadletters', p).then((r) => {
      const n = r.total || 0;
      const badge = $('dl-count');
      badge.textContent = n > 999 ? '999+' : String(n);
      badge.hidden = n === 0;
      $('dl-btn').title = n ? `${fmtCount(n)} dead ${n === 1 ? 'letter' : 'letters'} not yet replayed in the last 24 hours: records that could not be stored` : 'Dead letters: records that could not be stored (none in the last 24 hours)';
    }, () => { $('dl-count').hidden = true; });
  }

  function loadDeadLetters(auto) {
    if (dl.ctl) dl.ctl.abort();
    const ctl = new AbortController();
    dl.ctl = ctl;
    const p = new URLSearchParams({ limit: String(DL_PAGE) });
    if (dl.since !== 'all') p.set('since', dl.since);
    if (dl.dataset) p.set('dataset', dl.dataset);
    if (dl.reason) p.set('reason', dl.reason);
    if (dl.state) p.set('state', dl.state);
    if (!auto) dl.open.clear();
    document.body.classList.add('loading');
    loadDeadLetterCount();
    return api('deadletters', p, ctl.signal).then((r) => {
      if (!ctl.signal.aborted) renderDeadLetters(r);
    }, (e) => {
      if (aborted(e)) return;
      $('dl-rows').replaceChildren();
      $('dl-table').hidden = true;
      $('dl-summary').textContent = 'Dead letters unavailable';
      $('dl-state').replaceChildren(el('div', { class: 'state error' }, el('h2', null, 'Dead letters could not be read'), el('p', null, e.message)));
    }).finally(() => {
      if (dl.ctl === ctl) {
        dl.ctl = null;
        document.body.classList.remove('loading');
      }
    });
  }

  // fillSelect lists the values seen (with counts) and keeps the current one.
  function fillSelect(sel, all, counts, current) {
    sel.replaceChildren(el('option', { value: '' }, all));
    const keys = Object.keys(counts || {}).sort((a, b) => counts[b] - counts[a] || a.localeCompare(b));
    if (current && !keys.includes(current)) keys.push(current);
    for (const k of keys) sel.append(el('option', { value: k }, counts && counts[k] !== undefined ? `${k} (${fmtCount(counts[k])})` : k));
    sel.value = current;
  }

  function renderDeadLetters(r) {
    dl.last = r;
    const entries = r.entries || [];
    const total = r.total || 0;
    $('dl-summary').textContent = `${fmtCount(total)} dead ${total === 1 ? 'letter' : 'letters'}`;
    const by = Object.entries(r.by_reason || {}).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${fmtCount(n)}`).join(' · ');
    $('dl-by').textContent = by;
    // The filters list what the current filters match, with counts.
    fillSelect($('dl-dataset'), 'All datasets', dl.dataset ? null : r.by_dataset, dl.dataset);
    fillSelect($('dl-reason'), 'All reasons', dl.reason ? null : r.by_reason, dl.reason);
    $('dl-since').value = dl.since;
    $('dl-filter-state').value = dl.state;

    const tbody = $('dl-rows');
    tbody.replaceChildren();
    for (const e of entries) appendDeadLetter(tbody, e);
    $('dl-table').hidden = entries.length === 0;
    $('dl-more').textContent = entries.length < total
      ? `Showing the newest ${fmtCount(entries.length)} of ${fmtCount(total)}. Narrow the filters, or use flarehose deadletter list on the server.`
      : '';
    const box = $('dl-state');
    box.replaceChildren();
    const sk = r.skipped || {};
    const skipped = (sk.invalid || 0) + (sk.torn || 0) + (sk.oversized || 0);
    if (skipped) {
      box.append(el('div', { class: 'note dl-note' }, `${fmtCount(skipped)} unreadable ${skipped === 1 ? 'line was' : 'lines were'} skipped in the dead-letter files (${sk.torn || 0} torn by a crash or being written, ${sk.invalid || 0} invalid, ${sk.oversized || 0} too large).`));
    }
    if (!entries.length) {
      box.append(el('div', { class: 'state' }, el('h2', null, 'No dead letters'),
        el('p', null, dl.since === 'all' && !dl.dataset && !dl.reason && !dl.state
          ? 'Every record received so far could be normalized and stored.'
          : 'Nothing matches these filters. Widen the time range or clear the filters.')));
    }
  }

  function appendDeadLetter(tbody, e) {
    const t = parseTime(e.time);
    const tr = el('tr', { class: 'hit', tabindex: '0', 'aria-expanded': 'false' },
      el('td', { class: 'c-time', title: e.time }, fmtTime(t, 'ms')),
      el('td', { class: 'c-reason' }, el('span', { class: 'reason', title: e.reason }, e.reason || '—')),
      el('td', { class: 'c-ds' }, el('span', { class: 'ds', title: e.dataset || 'no dataset' }, e.dataset || '—')),
      el('td', { class: 'c-stage' }, e.stage || ''),
      el('td', { class: 'c-err', title: e.error }, e.error || ''),
      el('td', { class: 'c-st' }, e.state ? el('span', { class: 'st st-' + e.state }, e.state.replace('_', ' ')) : ''),
    );
    const toggle = () => {
      const next = tr.nextElementSibling;
      if (next && next.classList.contains('detail')) {
        next.remove();
        tr.classList.remove('open');
        tr.setAttribute('aria-expanded', 'false');
        dl.open.delete(e.ref);
      } else {
        openDeadLetter(tr, e);
        dl.open.add(e.ref);
      }
    };
    tr.addEventListener('click', () => {
      const sel = window.getSelection();
      if (sel && sel.toString() && tr.contains(sel.anchorNode)) return;
      toggle();
    });
    tr.addEventListener('keydown', (ev) => {
      if (ev.target !== tr) return;
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(); }
      if (ev.key === 'ArrowDown') { ev.preventDefault(); nextRow(tr, 1); }
      if (ev.key === 'ArrowUp') { ev.preventDefault(); nextRow(tr, -1); }
    });
    tbody.append(tr);
    if (dl.open.has(e.ref)) openDeadLetter(tr, e);
  }

  function openDeadLetter(tr, e) {
    tr.classList.add('open');
    tr.setAttribute('aria-expanded', 'true');
    tr.after(el('tr', { class: 'detail' }, el('td', { colspan: '6' }, deadLetterBox(e))));
  }

  function deadLetterBox(e) {
    const kv = el('tbody');
    const row = (k, v) => { if (v !== undefined && v !== null && v !== '') kv.append(el('tr', null, el('td', { class: 'key' }, k), el('td', { class: 'val' }, String(v)))); };
    row('ref', e.ref);
    row('time', e.time);
    row('stage', e.stage);
    row('replay state', e.state || 'pending');
    row('source', e.source);
    row('origin', e.origin);
    row('dataset', e.dataset || '(none)');
    row('line', e.line);
    row('reason', e.reason);
    row('error', e.error);
    row('record id', e.record_id);
    let text, label;
    if (e.doc !== undefined) {
      text = JSON.stringify(e.doc, null, 2);
      label = 'Document the sink rejected';
    } else if (e.raw_b64) {
      text = e.raw_b64;
      label = 'Raw record (not UTF-8, shown base64-encoded)';
    } else {
      text = e.raw || '';
      label = 'Raw record, as received';
    }
    const pre = el('pre', { class: 'json raw' }, text);
    const copy = el('button', { type: 'button', title: 'Copy the record' }, 'Copy');
    copy.addEventListener('click', () => copyText(text));
    const note = e.truncated
      ? el('div', { class: 'note dl-note' }, `Showing the first 64 KiB of ${fmtCount(e.size)} bytes. The whole record: `, el('code', null, `flarehose deadletter show ${e.ref} --raw`))
      : null;
    return el('div', { class: 'detail-box' },
      el('table', { class: 'kv' }, kv),
      el('div', { class: 'detail-head' }, el('span', null, `${label} (${fmtCount(e.size || 0)} bytes)`), el('span', { class: 'spacer' }), copy),
      note, pre,
      el('div', { class: 'note dl-note' }, 'Replay after a fix: ', el('code', null, 'flarehose deadletter replay')));
  }

  function initDeadLetters() {
    $('dl-btn').addEventListener('click', () => setView(state.view === 'deadletters' ? '' : 'deadletters'));
    $('dl-back').addEventListener('click', () => setView(''));
    const on = (id, key) => $(id).addEventListener('change', (ev) => { dl[key] = ev.target.value; loadDeadLetters(); });
    on('dl-since', 'since');
    on('dl-dataset', 'dataset');
    on('dl-reason', 'reason');
    on('dl-filter-state', 'state');
    $('dl-reload').addEventListener('click', () => loadDeadLetters(true));
    if (state.view !== 'deadletters') loadDeadLetterCount();
    setInterval(() => { if (document.visibilityState === 'visible' && state.view !== 'deadletters') loadDeadLetterCount(); }, 60000);
  }

  // ---------- wiring ----------
  function init() {
    readURL();
    buildFacets();
    setRefresh(state.refresh);

    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = $('q').value.trim();
      const changed = q !== state.q || state.view !== '';
      state.q = q;
      state.view = '';
      run({ push: changed });
    });
    $('q').addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') { ev.preventDefault(); $('q').blur(); }
    });
    $('dataset').addEventListener('change', (ev) => {
      state.dataset = ev.target.value;
      state.view = '';
      run({ push: true });
    });
    $('range').addEventListener('change', (ev) => {
      const v = ev.target.value;
      if (v === 'custom') { openCustom(); return; }
      $('custom-range').hidden = true;
      state.since = v;
      state.until = '';
      state.view = '';
      run({ push: true });
    });
    $('custom-range').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const a = fromLocalInput($('from').value);
      const b = $('to').value ? fromLocalInput($('to').value) : NaN;
      if (!isFinite(a)) { toast('Enter a start time'); return; }
      if (isFinite(b) && b <= a) { toast('The end must be after the start'); return; }
      state.since = iso(a);
      state.until = isFinite(b) ? iso(b) : '';
      $('custom-range').hidden = true;
      run({ push: true });
    });
    $('custom-cancel').addEventListener('click', () => { $('custom-range').hidden = true; syncControls(); });
    $('refresh').addEventListener('click', () => {
      setRefresh(!state.refresh);
      writeURL(false);
      syncControls();
      if (state.refresh) run({ auto: true });
    });
    $('tz').addEventListener('click', () => {
      utc = !utc;
      store('utc', utc ? '1' : '0');
      syncControls();
      rerenderTimes();
    });
    $('order').addEventListener('click', () => {
      state.order = state.order === 'asc' ? 'desc' : 'asc';
      run({ push: true });
    });
    $('zoom-out').addEventListener('click', zoomOut);
    $('load-more').addEventListener('click', loadMore);
    $('add-field').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const inp = $('add-field-name');
      if (inp.value.trim()) addTopField(inp.value);
      inp.value = '';
    });
    const help = $('help');
    $('help-btn').addEventListener('click', () => help.showModal());
    $('help-close').addEventListener('click', () => help.close());
    help.addEventListener('click', (ev) => { if (ev.target === help) help.close(); });

    document.addEventListener('keydown', (ev) => {
      const t = ev.target;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
      if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === '/') {
        ev.preventDefault();
        const q = $('q');
        q.focus();
        q.select();
      } else if (ev.key === '?') {
        ev.preventDefault();
        if (!help.open) help.showModal();
      }
    });
    window.addEventListener('popstate', () => {
      readURL();
      setRefresh(state.refresh);
      $('q').value = state.q;
      run();
    });
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(drawHistogram, 120);
    });
    initDeadLetters();
    $('q').value = state.q;
    run();
    api('version', null).then((v) => {
      $('version').textContent = `flarehose ${v.version}`;
      $('version').title = v.go || '';
    }, () => { /* shown nowhere else: ignore */ });
  }

  // rerenderTimes redraws what shows times after the time zone changed.
  function rerenderTimes() {
    for (const td of document.querySelectorAll('#hits td.c-time, #dl-rows td.c-time')) {
      td.textContent = fmtTime(parseTime(td.title), 'ms');
    }
    drawHistogram();
    $('range-label').textContent = rangeLabel();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
