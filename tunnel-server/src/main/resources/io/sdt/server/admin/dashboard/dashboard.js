// The sdt dashboard: reads /links, /tunnels, /metrics, /events and /vpn of the node that serves it, every
// two seconds, and keeps the last five minutes of throughput in the page (nothing is stored elsewhere).
'use strict';

const PERIOD_MS = 2000;
const HISTORY = 150; // points: five minutes at one per two seconds
const tunnelHistory = new Map(); // tunnel label -> {last: {t, to, from}, points: [{to, from}]}
const nodeHistory = {last: null, points: []};

// URLs are built on the origin, never on the page's address: a page opened as http://user:token@host/
// would make every relative fetch carry credentials in its URL, which fetch() refuses.
function url(path) {
  return new URL(path, window.location.origin).toString();
}

async function get(path, asText) {
  const res = await fetch(url(path), {cache: 'no-store', credentials: 'same-origin'});
  if (!res.ok) {
    throw new Error(path + ': HTTP ' + res.status);
  }
  return asText ? res.text() : res.json();
}

// Prometheus text format: the samples (name, labels, value); comments and types are skipped.
function parseMetrics(text) {
  const samples = [];
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    const labels = {};
    if (brace >= 0 && brace < space) {
      const body = line.slice(brace + 1, line.lastIndexOf('}'));
      for (const m of body.matchAll(label)) {
        labels[m[1]] = m[2].replace(/\\(.)/g, (all, c) => (c === 'n' ? '\n' : c));
      }
    }
    samples.push({name, labels, value: Number(line.slice(space + 1))});
  }
  return samples;
}

function sum(samples, name, where) {
  return samples.filter(s => s.name === name && Object.entries(where || {}).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
}

function rate(n) {
  return bytes(n) + '/s';
}

function since(ms) {
  if (!ms) {
    return '';
  }
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const text = s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
  return text + ' (' + new Date(ms).toLocaleTimeString() + ')';
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) {
    td.className = cls;
  }
  tr.appendChild(td);
  return td;
}

function fill(table, rows, noneId) {
  const body = document.querySelector('#' + table + ' tbody');
  body.replaceChildren(...rows);
  if (noneId) {
    document.getElementById(noneId).hidden = rows.length > 0;
  }
}

// Adds a sample of two byte counters to a history; returns the rates since the last one.
function record(history, t, to, from) {
  let r = {to: 0, from: 0};
  if (history.last && t > history.last.t) {
    const dt = (t - history.last.t) / 1000;
    r = {to: Math.max(0, to - history.last.to) / dt, from: Math.max(0, from - history.last.from) / dt};
    history.points.push(r);
    if (history.points.length > HISTORY) {
      history.points.shift();
    }
  }
  history.last = {t, to, from};
  return r;
}

function draw(canvas, points) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = '#e3e6ec';
  ctx.beginPath();
  ctx.moveTo(0, h - 0.5);
  ctx.lineTo(w, h - 0.5);
  ctx.stroke();
  const max = Math.max(1, ...points.map(p => Math.max(p.to, p.from)));
  const css = getComputedStyle(document.documentElement);
  for (const [key, color] of [['to', css.getPropertyValue('--to')], ['from', css.getPropertyValue('--from')]]) {
    ctx.strokeStyle = color.trim() || '#333';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach((p, i) => {
      const x = w - (points.length - 1 - i) * (w / (HISTORY - 1));
      const y = h - 2 - (p[key] / max) * (h - 4);
      if (i === 0) {
        ctx.moveTo(x, y);
      } else {
        ctx.lineTo(x, y);
      }
    });
    ctx.stroke();
  }
}

function showLinks(links) {
  document.getElementById('role').textContent = links.role;
  fill('links', links.links.map(l => {
    const tr = document.createElement('tr');
    cell(tr, l.server || '(client)');
    cell(tr, l.peer || '');
    const state = cell(tr, '');
    const badge = document.createElement('span');
    badge.className = l.up ? 'up' : 'down';
    badge.textContent = l.up ? 'up' : 'down';
    state.appendChild(badge);
    if (!l.up && l.problem) {
      state.append(' ' + l.problem);
    }
    cell(tr, since(l.sinceMillis));
    cell(tr, l.rttMicros >= 0 ? (l.rttMicros / 1000).toFixed(2) + ' ms' : '–', 'num');
    cell(tr, String(l.channels), 'num');
    return tr;
  }), 'links-none');
}

function showTunnels(tunnels, t) {
  const seen = new Set();
  fill('tunnels', tunnels.map(tu => {
    seen.add(tu.tunnel);
    let h = tunnelHistory.get(tu.tunnel);
    if (!h) {
      h = {last: null, points: []};
      tunnelHistory.set(tu.tunnel, h);
    }
    const r = record(h, t, tu.counters.bytesToLink, tu.counters.bytesFromLink);
    const tr = document.createElement('tr');
    tr.dataset.tunnel = tu.tunnel;
    cell(tr, tu.tunnel);
    cell(tr, tu.mode + ' (' + tu.direction + ')');
    const listeners = tu.listeners ? Object.entries(tu.listeners).map(([s, a]) => a + ' on ' + s).join(', ') : '';
    cell(tr, tu.bound || listeners || '');
    cell(tr, String(tu.activeChannels), 'num');
    const to = cell(tr, bytes(tu.counters.bytesToLink) + ' · ' + rate(r.to), 'num bytes-to');
    to.dataset.bytes = tu.counters.bytesToLink;
    const from = cell(tr, bytes(tu.counters.bytesFromLink) + ' · ' + rate(r.from), 'num bytes-from');
    from.dataset.bytes = tu.counters.bytesFromLink;
    const chart = document.createElement('canvas');
    chart.width = 180;
    chart.height = 32;
    draw(chart, h.points);
    cell(tr, '').appendChild(chart);
    cell(tr, tu.lastError || '', 'error');
    return tr;
  }), 'tunnels-none');
  for (const label of [...tunnelHistory.keys()]) {
    if (!seen.has(label)) {
      tunnelHistory.delete(label);
    }
  }
  fill('udp', tunnels.filter(tu => tu.mode.includes('udp') || tu.counters.tuples > 0).map(tu => {
    const tr = document.createElement('tr');
    cell(tr, tu.tunnel);
    for (const k of ['tuples', 'tuplesEvicted', 'tuplesExpired', 'datagramsDropped']) {
      cell(tr, String(tu.counters[k]), 'num');
    }
    return tr;
  }), 'udp-none');
}

const DROP = /_(dropped|drops|overflows|rejected)_total$|_opens_(denied|failed)_total$|_failures_total$/;

function showMetrics(samples, t) {
  const to = sum(samples, 'sdt_link_payload_bytes_total', {direction: 'to_link'});
  const from = sum(samples, 'sdt_link_payload_bytes_total', {direction: 'from_link'});
  const r = record(nodeHistory, t, to, from);
  draw(document.getElementById('node-chart'), nodeHistory.points);
  document.getElementById('node-to').textContent = rate(r.to) + ' (' + bytes(to) + ')';
  document.getElementById('node-from').textContent = rate(r.from) + ' (' + bytes(from) + ')';

  fill('drops', samples.filter(s => DROP.test(s.name)).map(s => {
    const tr = document.createElement('tr');
    cell(tr, s.name.replace(/^sdt_/, '').replace(/_total$/, '').replace(/_/g, ' '));
    cell(tr, Object.entries(s.labels).map(([k, v]) => k + '=' + v).join(' '));
    cell(tr, String(s.value), s.value > 0 ? 'num denied' : 'num muted');
    return tr;
  }));

  const push = [
    ['spooled now', bytes(sum(samples, 'sdt_push_spool_bytes'))],
    ['records spooled', String(sum(samples, 'sdt_push_spool_records'))],
    ['dropped: spool full', String(sum(samples, 'sdt_push_overflows_total'))],
  ];
  fill('push', push.map(([k, v]) => {
    const tr = document.createElement('tr');
    cell(tr, k);
    cell(tr, v, 'num');
    return tr;
  }));

  const vpn = samples.some(s => s.name.startsWith('sdt_vpn_'));
  document.getElementById('vpn-peers').hidden = !vpn;
  fill('vpn', vpn ? [
    ['peers', String(sum(samples, 'sdt_vpn_peers'))],
    ['packets to / from link', sum(samples, 'sdt_vpn_packets_total', {direction: 'to_link'}) + ' / '
      + sum(samples, 'sdt_vpn_packets_total', {direction: 'from_link'})],
    ['bytes to / from link', bytes(sum(samples, 'sdt_vpn_bytes_total', {direction: 'to_link'})) + ' / '
      + bytes(sum(samples, 'sdt_vpn_bytes_total', {direction: 'from_link'}))],
    ['dropped', String(sum(samples, 'sdt_vpn_drops_total'))],
  ].map(([k, v]) => {
    const tr = document.createElement('tr');
    cell(tr, k);
    cell(tr, v, 'num');
    return tr;
  }) : [], 'vpn-none');
}

function showEvents(events) {
  document.getElementById('events-total').textContent = events.total + ' decided since start';
  fill('events', events.events.map(e => {
    const tr = document.createElement('tr');
    cell(tr, new Date(e.time).toLocaleTimeString());
    cell(tr, e.decision, e.decision);
    cell(tr, e.kind);
    cell(tr, e.source);
    cell(tr, e.target);
    cell(tr, e.rule);
    cell(tr, e.link);
    return tr;
  }));
}

function showVpnPeers(vpn) {
  fill('vpn-peers', vpn.peers.map(p => {
    const tr = document.createElement('tr');
    cell(tr, p.client || 'this client');
    cell(tr, p.addresses.join(', '));
    cell(tr, p.link);
    cell(tr, since(p.sinceMillis));
    return tr;
  }));
}

function showHealth(text, ok) {
  const badge = document.getElementById('health');
  badge.textContent = text.trim();
  badge.className = 'badge ' + (!ok ? 'bad' : text.startsWith('degraded') ? 'degraded' : 'ok');
}

function eventsQuery() {
  const p = new URLSearchParams({limit: '50'});
  const q = document.getElementById('q').value.trim();
  const decision = document.getElementById('decision').value;
  if (q) {
    p.set('q', q);
  }
  if (decision) {
    p.set('decision', decision);
  }
  return '/events?' + p.toString();
}

async function refresh() {
  const t = Date.now();
  const error = document.getElementById('error');
  try {
    const health = await fetch(url('/healthz'), {cache: 'no-store'});
    showHealth(await health.text(), health.ok);
    const [links, tunnels, metrics, events, vpn] = await Promise.all([
      get('/links'), get('/tunnels'), get('/metrics', true), get(eventsQuery()), get('/vpn')]);
    showLinks(links);
    showTunnels(tunnels, t);
    showMetrics(parseMetrics(metrics), t);
    showEvents(events);
    showVpnPeers(vpn);
    document.getElementById('updated').textContent = 'updated ' + new Date(t).toLocaleTimeString();
    error.hidden = true;
  } catch (e) {
    error.textContent = 'cannot read the node: ' + e.message;
    error.hidden = false;
  }
}

let timer = null;

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, PERIOD_MS);
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('filter').addEventListener('submit', e => e.preventDefault());
  for (const id of ['q', 'decision']) {
    document.getElementById(id).addEventListener('input', async () => {
      try {
        showEvents(await get(eventsQuery()));
      } catch (e) {
        // the next refresh says what is wrong
      }
    });
  }
  refresh().then(schedule);
});
