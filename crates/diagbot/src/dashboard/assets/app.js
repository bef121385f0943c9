// diagbot's dashboard script: every health.sample_interval (and when a range
// link is clicked) it fetches /api/v1/status, /api/v1/history and
// /api/v1/groups and draws the status, the charts, the error groups, the events
// and the cache's size again, with the geometry and labels of the server's
// HTML and SVG (src/dashboard/svg.rs, charts.rs, groups.rs). Text is only
// ever set with textContent, so nothing from a log is read as markup.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 720, H = 200, LEFT = 72, RIGHT = 40, TOP = 12, BOTTOM = 24;
  const SPARK_W = 120, SPARK_H = 24;
  // svg::HOVER_TARGETS
  const HOVER_TARGETS = 240;
  const config = JSON.parse(document.getElementById('dashboard-config').textContent);
  let range = config.range;
  let timer = null;
  // How many times the charts were drawn here (the browser test reads it).
  document.body.dataset.redraws = '0';

  function rangeSeconds(name) {
    const r = config.ranges.find((x) => x.name === name);
    return r ? r.seconds : null;
  }
  function groupStep(name) {
    return config.ranges.find((x) => x.name === name).group_step;
  }

  // Rust's {:.N} of a value at or above zero: a value exactly halfway between
  // two results goes to the even one (toFixed goes up), so that the labels
  // and coordinates are the server's to the digit. Halfway exactly means
  // x = (2k + 1) / (2 * 10^N), which a double holds only when 5^N divides
  // 2k + 1; x * 10^N may itself be rounded, so k is tried both ways.
  function fixed(x, digits) {
    const scale = 10 ** digits, five = 5 ** digits;
    const k0 = Math.floor(x * scale);
    for (const k of [k0, k0 - 1]) {
      const odd = 2 * k + 1;
      if (k >= 0 && odd % five === 0 && odd / five / 2 ** (digits + 1) === x) {
        return ((k % 2 === 0 ? k : k + 1) / scale).toFixed(digits);
      }
    }
    return x.toFixed(digits);
  }
  // present::format::bytes
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = n, u = 0;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u += 1; }
    return u === 0 ? Math.floor(n) + ' B' : fixed(v, 1) + ' ' + units[u];
  }
  function value(unit, v) {
    if (unit === 'bytes') return bytes(Math.floor(Math.max(0, v)));  // as u64
    if (unit === 'load') return fixed(v, 2);
    return fixed(v, 0);
  }
  // present::format::percent and uptime
  function percent(p) { return fixed(p, 0) + ' %'; }
  // svg::count
  function count(v) {
    const a = Math.abs(v);
    if (a >= 1e6) return fixed(v / 1e6, 1) + 'M';
    if (a >= 1e4) return fixed(v / 1e3, 0) + 'k';
    if (a >= 10) return fixed(v, 0);
    return fixed(v, 1);
  }
  function uptime(secs) {
    const m = Math.floor(secs / 60);
    return Math.floor(m / 1440) + ' d ' + Math.floor(m / 60) % 24 + ' h ' + m % 60 + ' min';
  }
  function offset(secs) {
    const sign = secs < 0 ? '-' : '+';
    const s = Math.abs(secs);
    if (s % 86400 === 0) return sign + s / 86400 + ' d';
    if (s % 3600 === 0) return sign + s / 3600 + ' h';
    if (s % 60 === 0) return sign + s / 60 + ' min';
    return sign + Math.floor(s / 60) + ' min ' + s % 60 + ' s';
  }
  // ticks::axis: round values of the unit shown, in the same arithmetic.
  const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  function roundStep(atLeast, whole) {
    if (whole && atLeast <= 1) return [1, 0];
    let power = 1, exponent = 0;
    while (power * 10 <= atLeast) { power *= 10; exponent += 1; }
    while (power > atLeast) { power /= 10; exponent -= 1; }
    for (const [m, extra] of [[1, 0], [2, 0], [2.5, 1], [5, 0]]) {
      if (m * power >= atLeast) return [m * power, Math.max(extra - exponent, 0)];
    }
    return [10 * power, Math.max(-1 - exponent, 0)];
  }
  function axis(kind, max) {
    if (!(max > 0 && isFinite(max))) return { top: 1, ticks: [[0, '0']] };
    let divisor = 1, unit = 0;
    if (kind === 'bytes') {
      while (max / divisor >= 1024 && unit < BYTE_UNITS.length - 1) { divisor *= 1024; unit += 1; }
    }
    const name = kind === 'bytes' ? ' ' + BYTE_UNITS[unit] : '';
    const target = max / divisor * 1.05;
    const [step, decimals] = roundStep(target / 4, kind !== 'plain' && divisor === 1);
    const steps = Math.ceil(target / step);
    const ticks = [];
    for (let i = 0; i <= steps; i++) {
      const v = i * step;
      ticks.push([v * divisor, fixed(v, decimals) + name]);
    }
    return { top: steps * step * divisor, ticks };
  }
  // svg::kind
  function axisKind(unit) { return unit === 'bytes' ? 'bytes' : unit === 'lines' ? 'whole' : 'plain'; }
  function utc(t) {
    return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  }
  function el(tag, attrs, title) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (title !== undefined) {
      const t = document.createElementNS(SVG, 'title');
      t.textContent = visible(title);
      e.appendChild(t);
    }
    return e;
  }
  function f1(x) { return fixed(x, 1); }

  // charts::build
  function buildCharts(frame, status, history) {
    const find = (name) => {
      const s = history ? history.series.find((x) => x.name === name) : null;
      if (!s) return { points: [], step: 0 };
      // charts::means: a step without a value (null) breaks the line.
      const points = s.points.filter((p) => p[0] >= frame.since && p[0] <= frame.now)
        .map((p) => [p[0], p[3] === null || !isFinite(p[3]) ? NaN : p[3]]);
      return { points, step: s.step_seconds };
    };
    // charts::increases: the matches found in each step.
    const increases = (name) => {
      const s = history ? history.series.find((x) => x.name === name) : null;
      if (!s) return { points: [], step: 0 };
      let before = null;
      const out = [];
      for (const p of s.points) {
        if (!isFinite(p[1]) || !isFinite(p[2])) continue;
        const found = before !== null && p[2] >= before ? p[2] - before : p[2] - p[1];
        before = p[2];
        if (p[0] >= frame.since && p[0] <= frame.now) out.push([p[0], found]);
      }
      return { points: out, step: s.step_seconds };
    };
    const line = (cls, label, sampled, now) => {
      const points = sampled.points;
      if (now !== null && now !== undefined && (points.length === 0 || points[points.length - 1][0] < frame.now)) {
        points.push([frame.now, now]);
      }
      return { cls, label, points, gap: 2 * sampled.step };
    };
    const events = history ? history.events : [];
    const markers = (service) => events
      .filter((e) => config.marker_kinds.includes(e.kind) && (e.service === undefined ? null : e.service) === service && e.time >= frame.since && e.time <= frame.now)
      .map((e) => ({ time: e.time, kind: e.kind.replace(/[^a-z_]/g, ''), text: utc(e.time) + ' ' + e.kind + ': ' + e.message }));
    const projection = (trend) => {
      if (!trend || trend.trend.verdict !== 'climbing' || trend.latest_bytes === null) return null;
      const eta = trend.trend.limit_in_secs;
      const secs = eta === null || eta === undefined ? frame.ahead : Math.min(Math.max(eta, 0), frame.ahead);
      return { from: [frame.now, trend.latest_bytes], to: [frame.now + Math.trunc(secs), trend.latest_bytes + trend.trend.bytes_per_sec * secs], text: trend.text };
    };
    const host = status.host;
    const mem = host.memory;
    const swap = host.swap;
    const charts = [
      { id: 'host-memory', title: 'Host memory', unit: 'bytes',
        lines: [line('used', 'used', find('host.memory_used'), mem ? mem.used_bytes : null),
          line('available', 'available', find('host.memory_available'), mem ? mem.available_bytes : null)],
        limit: mem ? { label: 'total', value: mem.total_bytes } : null,
        projection: projection(status.host_memory_trend), markers: markers(null), second: null, saysNoLimit: false },
      { id: 'host-swap', title: 'Swap', unit: 'bytes',
        lines: [line('used', 'used', find('host.swap_used'), swap ? swap.used_bytes : null)],
        limit: swap && swap.total_bytes > 0 ? { label: 'total', value: swap.total_bytes } : null,
        projection: null, markers: [], second: null, saysNoLimit: false },
      { id: 'host-load', title: 'Load (1 min)', unit: 'load',
        lines: [line('load', 'load1', find('host.load1'), host.load ? host.load[0] : null)],
        limit: null, projection: null, markers: [], second: null, saysNoLimit: false },
    ];
    // charts::explained_line, with Candidate::name
    const explained = (svc) => {
      const c = svc.memory_trend ? svc.memory_trend.explained_by : null;
      if (!c) return null;
      const slot = c.template.split('<num>').length > 2 ? ' (its number ' + c.variable + ')' : '';
      const sampled = find(explainedSeries(svc.name));
      return { cls: 'explained', label: '`' + c.template + '`' + slot + ' (r ' + fixed(c.r || 0, 2) + ')', points: sampled.points, gap: 2 * sampled.step };
    };
    // charts::own_limit: the host's memory is no limit of the service's own.
    const ownLimit = (svc) => svc.memory_limit_bytes !== null && svc.memory_limit_bytes !== undefined &&
      svc.memory_limit_source !== 'host memory' ? svc.memory_limit_bytes : null;
    status.services.forEach((svc, i) => charts.push({
      id: 'service-' + i, title: svc.name + ' RSS', unit: 'bytes',
      lines: [line('rss', 'RSS', find('service.' + svc.name + '.rss'), svc.rss_bytes)],
      limit: ownLimit(svc) !== null ? { label: 'limit', value: ownLimit(svc) } : null,
      saysNoLimit: ownLimit(svc) === null,
      projection: svc.rss_bytes === null ? null : projection(svc.memory_trend), markers: markers(svc.name),
      second: explained(svc),
    }));
    const step = countsStep(frame.now - frame.since);
    config.queries.forEach((q, i) => charts.push({
      id: 'query-' + i, title: q + ': new matches per ' + stepName(step), unit: 'lines',
      lines: [line('matches', 'matches', increases('query.' + q + '.matches'), null)],
      limit: null, projection: null, markers: [], second: null, saysNoLimit: false,
    }));
    return charts;
  }
  // charts::counts_step, as the page's configuration gives it per range.
  function countsStep(seconds) {
    const r = config.ranges.find((x) => x.seconds === seconds);
    return r ? r.counts_step : 3600;
  }
  // charts::explained_series
  function explainedSeries(service) { return 'log.' + service + '.explained'; }

  // svg::render
  function render(chart, frame) {
    // svg::data_max, shown_limit and Scale::of
    let dataMax = 0;
    for (const l of chart.lines) for (const p of l.points) if (isFinite(p[1])) dataMax = Math.max(dataMax, p[1]);
    if (chart.projection && isFinite(chart.projection.to[1])) dataMax = Math.max(dataMax, chart.projection.to[1]);
    const shownLimit = chart.limit && chart.limit.value <= 4 * dataMax ? chart.limit : null;
    const ax = axis(axisKind(chart.unit), Math.max(dataMax, shownLimit ? shownLimit.value : 0));
    const span = Math.max(frame.now + frame.ahead - frame.since, 1);
    const x = (t) => LEFT + (t - frame.since) / span * (W - LEFT - RIGHT);
    const yOn = (top) => (v) => H - BOTTOM - Math.max(v, 0) / top * (H - TOP - BOTTOM);
    const y = yOn(ax.top);
    const svg = el('svg', { class: 'chart', id: 'chart-' + chart.id, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': visible(chart.title) });
    const text = (attrs, content) => {
      const t = el('text', attrs);
      t.textContent = visible(content);
      return t;
    };
    for (const [v, name] of ax.ticks) {
      const yy = f1(y(v));
      svg.appendChild(el('line', { class: 'grid', x1: f1(LEFT), y1: yy, x2: f1(W - RIGHT), y2: yy }));
      svg.appendChild(text({ class: 'ylabel', x: f1(LEFT - 4), y: f1(y(v) + 4) }, name));
    }
    const rangeSecs = frame.now - frame.since;
    const ticks = [[frame.since, offset(-rangeSecs)], [frame.since + Math.trunc(rangeSecs / 2), offset(-Math.trunc(rangeSecs / 2))], [frame.now, 'now']];
    if (frame.ahead > 0) {
      ticks.push([frame.now + frame.ahead, offset(frame.ahead)]);
      svg.appendChild(el('line', { class: 'now', x1: f1(x(frame.now)), y1: f1(TOP), x2: f1(x(frame.now)), y2: f1(H - BOTTOM) }));
    }
    for (const [t, label] of ticks) svg.appendChild(text({ class: 'xlabel', x: f1(x(t)), y: f1(H - 6) }, label));
    if (shownLimit) {
      const yy = f1(y(shownLimit.value));
      svg.appendChild(el('line', { class: 'limit', x1: f1(LEFT), y1: yy, x2: f1(W - RIGHT), y2: yy }, shownLimit.label + ': ' + value(chart.unit, shownLimit.value)));
    } else if (chart.limit || chart.saysNoLimit) {
      // svg::limit_note
      const note = chart.limit ? chart.limit.label + ' ' + value(chart.unit, chart.limit.value) : 'no limit';
      svg.appendChild(text({ class: 'limit-note', x: f1(W - RIGHT - 4), y: f1(TOP + 12) }, note));
    }
    // svg::series and svg::path: a point without a value, or farther than
    // the line's gap from the one before, starts the path anew.
    const series = (l, yOf, say) => {
      const d = [];
      let before = null;
      for (const [t, v] of l.points) {
        if (!isFinite(v)) { before = null; continue; }
        const joined = before !== null && (l.gap === 0 || t - before <= l.gap);
        d.push((joined ? 'L' : 'M') + f1(x(t)) + ',' + f1(yOf(v)));
        before = t;
      }
      svg.appendChild(el('path', { class: 'series ' + l.cls, d: d.join(' ') }, l.label));
      const valued = l.points.filter((p) => isFinite(p[1]));
      if (valued.length > 0) {
        const p = valued[valued.length - 1];
        svg.appendChild(el('circle', { class: 'latest ' + l.cls, cx: f1(x(p[0])), cy: f1(yOf(p[1])), r: '3' }, l.label + ': ' + say(p[1])));
      }
      const every = Math.max(Math.ceil(l.points.length / HOVER_TARGETS), 1);
      for (let i = 0; i < l.points.length; i += every) {
        const [t, v] = l.points[i];
        if (!isFinite(v)) continue;
        svg.appendChild(el('circle', { class: 'point ' + l.cls, cx: f1(x(t)), cy: f1(yOf(v)), r: '5' }, utc(t) + ' ' + l.label + ': ' + say(v)));
      }
    };
    for (const l of chart.lines) series(l, y, (v) => value(chart.unit, v));
    if (chart.second) {
      // svg::second_axis, on Scale::of_second
      const l = chart.second;
      let max2 = 0;
      for (const p of l.points) if (isFinite(p[1])) max2 = Math.max(max2, p[1]);
      const ax2 = axis('plain', max2);
      const y2 = yOn(ax2.top);
      for (const [v, name] of ax2.ticks) {
        svg.appendChild(text({ class: 'ylabel2 ' + l.cls, x: f1(W - RIGHT + 4), y: f1(y2(v) + 4) }, name));
      }
      series(l, y2, count);
    }
    if (chart.projection) {
      const p = chart.projection;
      svg.appendChild(el('path', { class: 'projection', d: 'M' + f1(x(p.from[0])) + ',' + f1(y(p.from[1])) + ' L' + f1(x(p.to[0])) + ',' + f1(y(p.to[1])) }, p.text));
    }
    for (const m of chart.markers) {
      const g = el('g', { class: 'marker ' + m.kind }, m.text);
      const xx = f1(x(m.time));
      g.appendChild(el('line', { x1: xx, y1: f1(TOP), x2: xx, y2: f1(H - BOTTOM) }));
      g.appendChild(el('circle', { cx: xx, cy: f1(TOP), r: '4' }));
      svg.appendChild(g);
    }
    // svg::legend: each line named, when there is more than one.
    const named = chart.lines.concat(chart.second ? [chart.second] : []);
    if (named.length > 1) {
      named.forEach((l, i) => {
        const yy = TOP + 12 + 13 * i;
        const g = el('g', { class: 'legend ' + l.cls });
        g.appendChild(el('line', { x1: f1(LEFT + 6), y1: f1(yy - 4), x2: f1(LEFT + 20), y2: f1(yy - 4) }));
        g.appendChild(text({ x: f1(LEFT + 24), y: f1(yy) }, l.label));
        svg.appendChild(g);
      });
    }
    return svg;
  }

  function drawCharts(charts, frame) {
    const section = document.getElementById('charts');
    if (!section) return;
    const figures = charts.map((c) => {
      const fig = document.createElement('figure');
      const cap = document.createElement('figcaption');
      cap.textContent = visible(c.title);
      fig.appendChild(cap);
      fig.appendChild(render(c, frame));
      return fig;
    });
    section.replaceChildren(...figures);
  }

  // page::events
  function drawEvents(events) {
    const list = document.getElementById('events');
    const items = events.slice(-config.latest_events).reverse().map((e) => {
      const li = document.createElement('li');
      li.className = 'event ' + e.kind;
      const time = document.createElement('time');
      time.textContent = utc(e.time);
      const kind = document.createElement('b');
      kind.textContent = e.kind;
      const named = e.service && !e.message.includes(e.service);
      li.append(time, ' ', kind, visible(' ' + (named ? e.service + ': ' : '') + e.message));
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'none in this range';
      items.push(li);
    }
    list.replaceChildren(...items);
  }

  // page::status_section, with present::status's words.
  function drawStatus(status) {
    const section = document.getElementById('status');
    if (!section) return;
    const host = status.host;
    const h2 = document.createElement('h2');
    h2.textContent = 'Now';
    const dl = document.createElement('dl');
    dl.className = 'host';
    const item = (name, text) => {
      if (text === null || text === undefined) return;
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = visible(text);
      dl.append(dt, dd);
    };
    const m = host.memory;
    item('memory', m ? bytes(m.used_bytes) + ' used of ' + bytes(m.total_bytes) + ' (' +
      percent(100 * m.used_bytes / Math.max(m.total_bytes, 1)) + '), ' + bytes(m.available_bytes) + ' available' : null);
    item('memory trend', status.host_memory_trend ? status.host_memory_trend.text : null);
    item('swap', host.swap ? (host.swap.total_bytes === 0 ? 'none' : bytes(host.swap.used_bytes) + ' used of ' + bytes(host.swap.total_bytes)) : null);
    item('load', host.load ? host.load.map((l) => fixed(l, 2)).join(' ') : null);
    item('cpu', host.cpu_percent !== null && host.cpu_percent !== undefined ? percent(host.cpu_percent) + ' busy' : null);
    item('uptime', host.uptime_secs !== null && host.uptime_secs !== undefined ? uptime(host.uptime_secs) : null);
    const own = status.diagbot;
    item('diagbot', own.rss_bytes !== null && own.rss_bytes !== undefined ? 'RSS ' + bytes(own.rss_bytes) +
      (own.cache ? ', cache ' + own.cache.entries + ' answers in ' + bytes(own.cache.bytes) + ' of ' + bytes(own.cache.budget_bytes) : '') : null);
    const parts = [h2, dl];
    if (status.services.length > 0) {
      const table = document.createElement('table');
      table.className = 'services';
      const head = table.createTHead().insertRow();
      for (const name of ['service', 'state', 'pid', 'RSS', 'limit', 'restarts', 'last result', 'trend']) {
        const th = document.createElement('th');
        th.textContent = name;
        head.appendChild(th);
      }
      const body = table.createTBody();
      for (const s of status.services) {
        const trend = s.memory_trend;
        const words = [trend ? trend.text : null, trend && trend.restart_loop ? trend.restart_loop.text : null].filter((w) => w !== null);
        const cells = [
          s.name,
          s.state === null || s.state === undefined ? null : (s.sub_state ? s.state + ' (' + s.sub_state + ')' : s.state),
          s.main_pid === null || s.main_pid === undefined ? null : String(s.main_pid),
          s.rss_bytes === null || s.rss_bytes === undefined ? null : bytes(s.rss_bytes),
          s.memory_limit_bytes === null || s.memory_limit_bytes === undefined ? null : bytes(s.memory_limit_bytes),
          s.restarts === null || s.restarts === undefined ? null : String(s.restarts),
          s.last_result === undefined ? null : s.last_result,
          words.length > 0 ? words.join('; ') : null,
        ];
        const row = body.insertRow();
        for (const c of cells) row.insertCell().textContent = c === null ? '' : visible(c);
      }
      parts.push(table);
    }
    const unread = host.unavailable.concat(...status.services.map((s) => s.unavailable))
      .map((u) => u.source + ': ' + u.reason);
    if (unread.length > 0) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = visible('Not read: ' + unread.join('; '));
      parts.push(p);
    }
    section.replaceChildren(...parts);
  }

  // dashboard::groups
  function counted(n, what) { return n + ' ' + what + (n === 1 ? '' : 's'); }
  function stepName(s) {
    if (s === 3600) return 'hour';
    if (s % 3600 === 0) return s / 3600 + ' h';
    return Math.floor(s / 60) + ' min';
  }
  // The whole seconds of an RFC 3339 time (chrono writes up to nine decimals).
  function unixOf(rfc3339) { return Math.floor(Date.parse(rfc3339.replace(/\.\d+/, '')) / 1000); }
  // present::visible: a character that would act on the text around it (a
  // control other than tab and newline, a bidirectional mark, override or
  // isolate, a line separator, an invisible space) is shown by its name, as
  // the server shows it.
  function acts(c) {
    const n = c.codePointAt(0);
    return (n < 0x20 && c !== '\t' && c !== '\n') || (n >= 0x7f && n <= 0x9f) || n === 0x61c || n === 0x200b ||
      n === 0x200e || n === 0x200f || n === 0x2028 || n === 0x2029 || (n >= 0x202a && n <= 0x202e) ||
      n === 0x2060 || (n >= 0x2066 && n <= 0x2069) || n === 0xfeff;
  }
  function visible(text) {
    let out = '';
    for (const c of String(text)) {
      if (!acts(c)) out += c;
      else if (c.codePointAt(0) <= 0x9f) out += '\\x' + c.codePointAt(0).toString(16).padStart(2, '0');
      else out += 'U+' + c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
    }
    return out;
  }
  function html(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = visible(text);
    return e;
  }
  function spark(counts, steps) {
    const peak = counts.reduce((a, b) => Math.max(a, b), 0);
    const total = counts.reduce((a, b) => a + b, 0);
    const svg = el('svg', { class: 'spark', viewBox: '0 0 ' + SPARK_W + ' ' + SPARK_H, role: 'img',
      'aria-label': total + ' in all, at most ' + peak + ' per ' + stepName(steps.seconds) });
    const width = SPARK_W / Math.max(counts.length, 1);
    counts.forEach((c, i) => {
      if (c <= 0) return;
      const height = Math.max(c / peak * SPARK_H, 1);
      svg.appendChild(el('rect', { x: f1(i * width), y: f1(SPARK_H - height), width: f1(width), height: f1(height) },
        utc(steps.start + i * steps.seconds) + ': ' + c));
    });
    return svg;
  }
  function unplaced(answer) {
    const files = answer.warnings;
    if (files.length === 0) return [];
    const names = files.slice(0, config.unplaced_named).map((w) => w.path);
    if (files.length > config.unplaced_named) names.push((files.length - config.unplaced_named) + ' more');
    const p = html('p', 'note unplaced');
    p.append('Not counted: lines without a timestamp diagbot reads, in ' + counted(files.length, 'file') + ': ' +
      names.join(', ') + '. ', html('code', null, 'diagbot formats test FILE'), ' shows how a file is read.');
    return [p];
  }
  function renderGroups(answer, rangeName) {
    if (answer.groups.length === 0) {
      return [html('p', 'none', 'No warning or error lines in the last ' + rangeName + '.')].concat(unplaced(answer));
    }
    const summary = html('p', 'groups-summary');
    const events = answer.groups.reduce((n, g) => n + g.count, 0) + (answer.other ? answer.other.count : 0);
    summary.append((events === 1 ? '1 warning or error' : events + ' warnings or errors') + ' in the last ' + rangeName +
      ', in ' + counted(answer.groups.length, 'group') +
      (answer.other ? ' and ' + counted(answer.other.groups, 'group') + ' merged into “other”' : '') +
      '. All of them: ', html('code', null, 'diagbot groups --since ' + rangeName + ' --remote ' + document.getElementById('groups').dataset.daemon));
    const table = html('table', 'groups');
    const head = table.createTHead().insertRow();
    const step = answer.steps ? answer.steps.seconds : groupStep(rangeName);
    for (const name of ['level', 'group', 'count', 'last seen', 'per ' + stepName(step)]) head.appendChild(html('th', null, name));
    const body = table.createTBody();
    for (const g of answer.groups.slice(0, config.top_groups)) {
      const row = body.insertRow();
      row.dataset.id = g.id;
      row.insertCell().textContent = visible(g.level || 'none');
      const code = html('code', null, g.template);
      code.title = visible(g.example);
      const group = row.insertCell();
      group.append(code);
      if (g.new === true) group.append(' ', html('b', 'new', 'new'));
      row.insertCell().textContent = String(g.count);
      row.insertCell().textContent = g.last_seen ? utc(unixOf(g.last_seen)) : '';
      const cell = row.insertCell();
      if (answer.steps) cell.appendChild(spark(g.counts, answer.steps));
    }
    // groups::NEW_UNKNOWN
    const known = answer.groups.some((g) => g.new !== null && g.new !== undefined);
    const newness = known ? [] : [html('p', 'note', 'Which groups are new is known for the logs of a [[services]] entry, whose new-error watch records when each group was first seen; none of these is.')];
    return [summary, table].concat(newness, unplaced(answer));
  }
  function drawGroups(answer, failure) {
    const box = document.getElementById('groups');
    if (!box) return;
    if (answer) box.replaceChildren(...renderGroups(answer, range));
    else box.replaceChildren(html('p', 'note', 'The error groups could not be read: ' + failure));
  }
  function groupsUrl() {
    return '/api/v1/groups?since=' + encodeURIComponent(range) + '&step=' + groupStep(range) + '&max=' + config.max_groups + '&previous=false';
  }

  function note(text) {
    const p = document.getElementById('history-note');
    p.textContent = visible(text);
    p.hidden = text === '';
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.status + ' ' + response.statusText);
    return body;
  }

  // The series the page asks for, as charts::series_names names them.
  function historyUrl(series, frame, step) {
    let url = '/api/v1/history?series=' + encodeURIComponent(series.join(',')) +
      '&since=' + frame.since + '&until=' + (frame.now + 1);
    if (step) url += '&step=' + step;
    return url;
  }

  async function readHistory(status, frame) {
    const samples = ['host.memory_used', 'host.memory_available', 'host.swap_used', 'host.load1']
      .concat(status.services.map((s) => 'service.' + s.name + '.rss'))
      .concat(status.services.filter((s) => s.memory_trend && s.memory_trend.explained_by).map((s) => explainedSeries(s.name)));
    const answer = await getJson(historyUrl(samples, frame, null));
    if (config.queries.length > 0) {
      const counted = await getJson(historyUrl(config.queries.map((q) => 'query.' + q + '.matches'), frame, countsStep(frame.now - frame.since)));
      answer.series = answer.series.concat(counted.series);
    }
    return answer;
  }

  async function refresh() {
    const seconds = rangeSeconds(range);
    const now = Math.floor(Date.now() / 1000);
    const frame = { since: now - seconds, now, ahead: Math.trunc(seconds / 4) };
    // Asked first and drawn last: a grouping of large logs must not hold up the charts.
    const groupsAsked = getJson(groupsUrl()).then((answer) => [answer, null], (e) => [null, e.message]);
    let status;
    try {
      status = await getJson('/api/v1/status');
    } catch (e) {
      note('The status could not be read: ' + e.message + '. The charts are as they were.');
      return;
    }
    let history = null;
    if (config.history) {
      try {
        history = await readHistory(status, frame);
        note('');
      } catch (e) {
        note('History is unavailable (' + e.message + '): the charts show only the values now, the limits and the projections.');
      }
    }
    drawStatus(status);
    drawCharts(buildCharts(frame, status, history), frame);
    if (history) drawEvents(history.events);
    const cache = status.diagbot.cache;
    document.getElementById('cache-size').textContent = cache
      ? cache.entries + (cache.entries === 1 ? ' answer in ' : ' answers in ') + bytes(cache.bytes) + ' of ' + bytes(cache.budget_bytes)
      : 'not known';
    document.getElementById('updated').textContent = 'as of ' + utc(now);
    drawGroups(...await groupsAsked);
    document.body.dataset.redraws = String(Number(document.body.dataset.redraws) + 1);
  }

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(async () => { await refresh(); schedule(); }, config.refresh_ms);
  }

  // A range link switches in place; the address follows, so a reload or a
  // shared link shows the same range.
  for (const a of document.querySelectorAll('.ranges a')) {
    a.addEventListener('click', async (event) => {
      event.preventDefault();
      range = a.dataset.range;
      for (const other of document.querySelectorAll('.ranges a')) {
        other.classList.toggle('active', other === a);
        if (other === a) other.setAttribute('aria-current', 'page'); else other.removeAttribute('aria-current');
      }
      window.history.replaceState(null, '', '?range=' + encodeURIComponent(range));
      await refresh();
      schedule();
    });
  }
  // The drawing, for the browser test to hold against the server's for the same answer.
  window.diagbotCharts = { build: buildCharts, render };
  window.diagbotGroups = { render: renderGroups };
  schedule();
}());
