// The dashboard: the mock's twin of Truora's "Validation Results", checked every 2 s.
//
// A check sends the ETag of what is on screen (If-None-Match): an unchanged list or detail
// answers 304 with no body and nothing on the page is touched, so a selection (row or text)
// survives. When something did change, rows are updated in place by validation_id, cell by
// cell, rather than redrawn.
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var PAGE = 50;
  var PHONE = window.matchMedia('(max-width: 760px)');
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var FIELDS = ['validation_id', 'account_id', 'status'];
  FIELDS.forEach(function (k) { if (params.get(k)) $('f-' + k).value = params.get(k); });
  var offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);
  // `?open=` selects a validation; the demo's link `?validation_id=<full id>` does too.
  var selected = params.get('open') ||
    (/^VLD[0-9a-f]{32}$/i.test(params.get('validation_id') || '') ? params.get('validation_id') : null);
  var listTag = null, listKey = null, detailTag = null, detailId = null, waitingForToken = false;

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (k) { if (k) e.appendChild(typeof k === 'string' ? document.createTextNode(k) : k); });
    return e;
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function utc(iso) { return iso ? iso.replace('T', ' ').slice(0, 19) : ''; }
  function statusText(v) {
    return v.validation_status + (v.failure_status ? ' / ' + v.failure_status : '') +
      (v.declined_reason || v.expired_reason ? ' / ' + (v.declined_reason || v.expired_reason) : '');
  }

  function filters() {
    var q = new URLSearchParams();
    FIELDS.forEach(function (k) { var v = $('f-' + k).value.trim(); if (v) q.set(k, v); });
    return q;
  }

  // The address bar holds what is on screen (filters, page, open validation), never the token.
  function keepUrl() {
    var q = filters();
    if (offset) q.set('offset', String(offset));
    if (selected) q.set('open', selected);
    var url = '/dashboard' + (q.toString() ? '?' + q : '');
    if (location.pathname + location.search !== url) history.replaceState(null, '', url);
  }

  /** GET with the admin token and the tag of what is shown; resolves to { status, tag, body }. */
  function get(url, tag) {
    var headers = MockAdmin.headers({});
    if (tag) headers['If-None-Match'] = tag;
    // no-store: the page keeps its own copy; a 304 must reach this script, not the HTTP cache.
    return fetch(url, { headers: headers, cache: 'no-store' }).then(function (r) {
      // Read the (empty) body so the request completes rather than being dropped.
      if (r.status === 304) return r.text().then(function () { return { status: 304 }; });
      return r.json().catch(function () { return {}; }).then(function (body) {
        return { status: r.status, tag: r.headers.get('ETag'), body: body };
      });
    });
  }

  function needToken(message) {
    waitingForToken = true;
    listTag = detailTag = null;
    setText($('meta'), 'Validations are hidden until the admin token is entered.');
    MockAdmin.ask($('token-box'), message, function () { waitingForToken = false; refresh(); });
  }

  function refresh() {
    if (waitingForToken) return;
    keepUrl();
    var q = filters();
    q.set('limit', String(PAGE));
    if (offset) q.set('offset', String(offset));
    var key = q.toString();
    get('/dashboard/api/validations?' + key, key === listKey ? listTag : null).then(function (res) {
      setText($('checked'), '· checked ' + new Date().toISOString().slice(11, 19) + ' UTC');
      if (res.status === 401) return needToken(res.body.message || 'The admin token is missing or wrong.');
      if (res.status !== 304) {
        if (res.status !== 200) { setText($('meta'), res.body.message || 'HTTP ' + res.status); return; }
        listTag = res.tag; listKey = key;
        renderList(res.body);
      }
      refreshDetail();
    }).catch(function (e) { setText($('checked'), '· refresh failed: ' + e.message); });
  }

  function renderList(j) {
    var from = j.count ? j.offset + 1 : 0;
    setText($('meta'), j.matched + ' matching of ' + j.total + ' · clock ' + j.clock);
    setText($('page-info'), j.count ? 'Showing ' + from + '–' + (j.offset + j.count) + ' of ' + j.matched : 'No rows on this page');
    $('newer').disabled = j.offset === 0;
    $('older').disabled = j.offset + j.count >= j.matched;
    var rows = $('rows');
    var existing = {};
    Array.prototype.forEach.call(rows.children, function (tr) { existing[tr.getAttribute('data-validation-id') || ''] = tr; });
    j.validations.forEach(function (v, i) {
      var tr = existing[v.validation_id];
      delete existing[v.validation_id];
      if (!tr) tr = makeRow(v);
      fillRow(tr, v);
      if (rows.children[i] !== tr) rows.insertBefore(tr, rows.children[i] || null);
    });
    Object.keys(existing).forEach(function (k) { existing[k].remove(); });
    if (!j.validations.length) {
      rows.appendChild(el('tr', { 'data-validation-id': '' }, [el('td', { colspan: '7', class: 'muted empty', text: j.matched ? 'No validations on this page.' : 'No validations match.' })]));
    }
    // A search that no longer shows the open validation closes it, rather than leaving an
    // unrelated detail on screen.
    if (selected && !j.validations.some(function (v) { return v.validation_id === selected; }) && !j.matched) closeDetail(false);
    $('announce').textContent = j.matched ? '' : 'No validations match.';
  }

  var COLS = ['created', 'id', 'account', 'scenario', 'status', 'journey', 'polls'];
  var LABELS = ['Created (UTC)', 'validation_id', 'account_id', 'Scenario', 'Status', 'Journey', 'Polls'];
  function makeRow(v) {
    var tr = el('tr', { 'data-validation-id': v.validation_id });
    COLS.forEach(function (c, i) {
      var td = el('td', { class: 'c-' + c, 'data-label': LABELS[i] });
      if (c === 'id') {
        var b = el('button', { type: 'button', class: 'open mono', 'data-testid': 'open-row', text: v.validation_id });
        b.addEventListener('click', function (e) { e.stopPropagation(); select(v.validation_id, true); });
        td.appendChild(b);
      }
      tr.appendChild(td);
    });
    // A click anywhere on the row opens it too, unless the person was selecting text.
    tr.addEventListener('click', function () { if (!String(window.getSelection())) select(v.validation_id, true); });
    return tr;
  }
  function fillRow(tr, v) {
    var cells = tr.children;
    setText(cells[0], utc(v.creation_date));
    setText(cells[2], v.account_id);
    setText(cells[3], v.scenario);
    setText(cells[4], statusText(v));
    cells[4].className = 'c-status st-' + v.validation_status;
    setText(cells[5], v.journey_label || '—');
    setText(cells[6], String(v.polls));
    tr.setAttribute('data-status', v.validation_status);
    var on = v.validation_id === selected;
    tr.classList.toggle('sel', on);
    var b = cells[1].firstChild;
    if (on) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
  }

  function select(id, focus) {
    if (selected !== id) { selected = id; detailTag = null; detailId = null; }
    Array.prototype.forEach.call($('rows').children, function (tr) {
      var on = tr.getAttribute('data-validation-id') === selected;
      tr.classList.toggle('sel', on);
      var b = tr.querySelector('button.open');
      if (b) { if (on) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current'); }
    });
    keepUrl();
    refreshDetail(focus);
  }

  function closeDetail(restoreFocus) {
    var id = selected;
    selected = null; detailTag = null; detailId = null;
    $('detail').hidden = true;
    $('detail-body').replaceChildren();
    $('split').classList.remove('has-detail');
    document.body.classList.remove('sheet-open');
    Array.prototype.forEach.call($('rows').children, function (tr) {
      tr.classList.remove('sel');
      var b = tr.querySelector('button.open'); if (b) b.removeAttribute('aria-current');
    });
    keepUrl();
    if (restoreFocus && id) {
      var b = document.querySelector('tr[data-validation-id="' + id + '"] button.open');
      if (b) b.focus();
    }
  }

  function refreshDetail(focus) {
    if (!selected) return;
    var id = selected;
    get('/dashboard/api/validations/' + encodeURIComponent(id), detailId === id ? detailTag : null).then(function (res) {
      if (id !== selected) return;
      if (res.status === 401) return needToken(res.body.message || 'The admin token is missing or wrong.');
      if (res.status === 304) { if (focus) showDetail(true); return; }
      detailTag = res.tag; detailId = id;
      renderDetail(res.status === 200 ? res.body : null, res.body.message);
      showDetail(focus);
    }).catch(function () {});
  }

  function showDetail(focus) {
    var box = $('detail');
    box.hidden = false;
    $('split').classList.add('has-detail');
    // On a phone the detail is a sheet over the list.
    document.body.classList.toggle('sheet-open', PHONE.matches);
    if (focus) { $('detail-title').focus({ preventScroll: !PHONE.matches }); box.scrollTop = 0; }
  }

  function renderDetail(v, message) {
    if (!v) { setText($('detail-title'), 'Validation not found'); $('detail-body').replaceChildren(el('p', { class: 'muted', text: message || '' })); return; }
    setText($('detail-title'), v.validation_id);
    var timeline = el('ol', { class: 'timeline', 'data-testid': 'timeline' }, v.timeline.map(function (t) {
      var name = t.phase || ('outcome: ' + t.outcome);
      var limit = t.until_seconds != null ? ' (until ' + t.until_seconds + ' s)' : t.until_polls != null ? ' (until ' + t.until_polls + ' polls)' : '';
      return el('li', { class: 'tl-' + t.state, text: name + limit + ' — ' + t.state });
    }));
    var events = v.journey ? el('ol', { class: 'timeline', 'data-testid': 'journey-events' }, v.journey.events.map(function (e) {
      return el('li', { text: '+' + e.after_seconds.toFixed(1) + ' s  ' + e.event + ' (' + e.device + ')' + (e.detail ? ' ' + e.detail : '') });
    })) : el('p', { class: 'muted', text: 'The Web SDK has not opened this validation.' });
    var reqs = el('div', { class: 'scroll-x', tabindex: '0', role: 'region', 'aria-label': 'Requests received, scrollable' }, [el('table', { class: 'grid small', 'data-testid': 'requests' }, [
      el('caption', { class: 'sr-only', text: 'Requests received for this validation' }),
      el('thead', {}, [el('tr', {}, ['Received (s after create)', 'Method', 'Path', 'Kind', 'Status', 'Fault'].map(function (h) { return el('th', { scope: 'col', text: h }); }))]),
      el('tbody', {}, v.requests.map(function (r) {
        return el('tr', {}, [r.after_create_seconds.toFixed(3), r.method, r.path, r.kind, String(r.status), r.fault || ''].map(function (c) { return el('td', { text: c }); }));
      }))
    ])]);
    $('detail-body').replaceChildren(
      el('dl', { class: 'facts' }, [
        el('dt', { text: 'Status' }), el('dd', {}, [el('strong', { 'data-testid': 'detail-status', class: 'st-' + v.validation_status, text: statusText(v) })]),
        el('dt', { text: 'Journey' }), el('dd', { 'data-testid': 'detail-journey', text: v.journey_label || 'not opened' }),
        el('dt', { text: 'Created' }), el('dd', { text: utc(v.creation_date) + ' UTC' }),
        el('dt', { text: 'Scenario' }), el('dd', {}, [el('code', { text: v.scenario })]),
        el('dt', { text: 'account_id' }), el('dd', {}, [el('code', { text: v.account_id })]),
        el('dt', { text: 'Phase' }), el('dd', { text: v.phase + ' · timeout ' + v.timeout_seconds + ' s · ' + v.polls + ' polls' })
      ]),
      el('h3', { text: 'Scenario timeline' }), timeline,
      el('h3', { text: 'User journey' }), events,
      el('h3', { text: 'Requests received (' + v.requests.length + ')' }), reqs
    );
  }

  // The live chart of API requests per second (creates and polls), shown once there is
  // traffic: a fleet load test's waves and the throttling it meets, as they happen.
  var SVG = 'http://www.w3.org/2000/svg';
  var TRAFFIC_SECONDS = 120;
  var trafficTag = null;
  function bar(cls, x, y, w, h, title) {
    var r = document.createElementNS(SVG, 'rect');
    r.setAttribute('class', cls); r.setAttribute('x', x); r.setAttribute('y', y);
    r.setAttribute('width', w); r.setAttribute('height', h);
    if (title) { var t = document.createElementNS(SVG, 'title'); t.textContent = title; r.appendChild(t); }
    return r;
  }
  function refreshTraffic() {
    if (waitingForToken) return;
    get('/dashboard/api/traffic?seconds=' + TRAFFIC_SECONDS, trafficTag).then(function (res) {
      if (res.status !== 200) return;
      trafficTag = res.tag;
      var t = res.body, s = t.seconds || [];
      $('traffic').hidden = t.total === 0;
      if (t.total === 0) return;
      var throttled = 0, errors = 0;
      s.forEach(function (x) { throttled += x.throttled; errors += x.server_errors; });
      var last = s.length ? s[s.length - 1].requests : 0;
      setText($('traffic-summary'), last + ' req/s in the last second · peak ' + t.peak + ' · mean ' + t.mean +
        ' · ' + t.total + ' requests, ' + throttled + ' answered 429, ' + errors + ' 5xx or dropped');
      var w = 600 / TRAFFIC_SECONDS, top = Math.max(t.peak, 1), h = 86;
      var bars = [];
      s.forEach(function (x, i) {
        if (!x.requests) return;
        var px = i * w + 0.5, bw = Math.max(w - 1, 1), y = 90;
        var ok = x.requests - x.throttled - x.server_errors;
        var tip = x.requests + ' requests (' + x.throttled + ' × 429, ' + x.server_errors + ' × 5xx or dropped)';
        [['b-ok', ok], ['b-throttled', x.throttled], ['b-error', x.server_errors]].forEach(function (part) {
          if (!part[1]) return;
          var ph = part[1] / top * h;
          y -= ph;
          bars.push(bar(part[0], px, y, bw, ph, tip));
        });
      });
      $('traffic-chart').replaceChildren.apply($('traffic-chart'), bars);
    }).catch(function () {});
  }

  $('filters').addEventListener('submit', function (e) {
    e.preventDefault();
    offset = 0;
    var id = $('f-validation_id').value.trim();
    if (/^VLD[0-9a-f]{32}$/i.test(id)) select(id, false);
    refresh();
  });
  $('newer').addEventListener('click', function () { offset = Math.max(0, offset - PAGE); refresh(); });
  $('older').addEventListener('click', function () { offset += PAGE; refresh(); });
  $('close-detail').addEventListener('click', function () { closeDetail(true); });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape' && selected) closeDetail(true); });
  PHONE.addEventListener('change', function () { if (selected) document.body.classList.toggle('sheet-open', PHONE.matches); });

  refresh();
  if (selected) select(selected, false);
  setInterval(refresh, REFRESH_MS);
  refreshTraffic();
  setInterval(refreshTraffic, REFRESH_MS);
})();
