// The dashboard: the mock's twin of Truora's "Validation Results", refreshed every 2 s.
(function () {
  'use strict';
  var REFRESH_MS = 2000;
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var selected = params.get('validation_id') || null;
  // With `serve --admin-token`, open /dashboard?admin_token=<token>; it is passed on to the data API.
  var token = params.get('admin_token');
  var auth = function (url) { return token ? url + (url.indexOf('?') < 0 ? '?' : '&') + 'admin_token=' + encodeURIComponent(token) : url; };
  ['validation_id', 'account_id', 'status'].forEach(function (k) { if (params.get(k)) $('f-' + k).value = params.get(k); });

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (k) { if (k) e.appendChild(typeof k === 'string' ? document.createTextNode(k) : k); });
    return e;
  }

  function statusText(v) {
    return v.validation_status + (v.failure_status ? ' / ' + v.failure_status : '') +
      (v.declined_reason || v.expired_reason ? ' / ' + (v.declined_reason || v.expired_reason) : '');
  }

  function query() {
    var q = new URLSearchParams();
    ['validation_id', 'account_id', 'status'].forEach(function (k) { var v = $('f-' + k).value.trim(); if (v) q.set(k, v); });
    return q;
  }

  function refresh() {
    var q = query();
    if (token) q.set('admin_token', token);
    history.replaceState(null, '', '/dashboard' + (q.toString() ? '?' + q : ''));
    fetch('/dashboard/api/validations?' + q).then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); }).then(function (res) {
      var rows = $('rows');
      rows.replaceChildren();
      if (!res.ok) { $('meta').textContent = res.j.message; return; }
      $('meta').textContent = res.j.count + ' shown of ' + res.j.total + ' · clock ' + res.j.clock + ' · refreshed ' + new Date().toLocaleTimeString();
      res.j.validations.forEach(function (v) {
        var tr = el('tr', { 'data-validation-id': v.validation_id, 'data-status': v.validation_status, class: v.validation_id === selected ? 'sel' : '' }, [
          el('td', { text: v.creation_date.replace('T', ' ').slice(0, 19) }),
          el('td', { class: 'mono', text: v.validation_id }),
          el('td', { text: v.account_id }),
          el('td', { text: v.scenario }),
          el('td', { class: 'st-' + v.validation_status, text: statusText(v) }),
          el('td', { text: v.journey ? v.journey.step + ' (' + v.journey.device + ')' : '—' }),
          el('td', { text: String(v.polls) })
        ]);
        tr.addEventListener('click', function () { selected = v.validation_id; refresh(); });
        rows.appendChild(tr);
      });
      if (!res.j.validations.length) rows.appendChild(el('tr', {}, [el('td', { colspan: '7', class: 'muted', text: 'No validations match.' })]));
      if (selected) detail(selected);
    }).catch(function (e) { $('meta').textContent = 'refresh failed: ' + e; });
  }

  function detail(id) {
    fetch(auth('/dashboard/api/validations/' + encodeURIComponent(id))).then(function (r) { return r.json(); }).then(function (v) {
      var box = $('detail');
      box.hidden = false;
      if (!v.validation_id) { box.replaceChildren(el('p', { class: 'muted', text: v.message })); return; }
      var timeline = el('ol', { class: 'timeline', 'data-testid': 'timeline' }, v.timeline.map(function (t) {
        var name = t.phase || ('outcome: ' + t.outcome);
        var limit = t.until_seconds != null ? ' (until ' + t.until_seconds + ' s)' : t.until_polls != null ? ' (until ' + t.until_polls + ' polls)' : '';
        return el('li', { class: 'tl-' + t.state, text: name + limit + ' — ' + t.state });
      }));
      var events = v.journey ? el('ol', { class: 'timeline', 'data-testid': 'journey-events' }, v.journey.events.map(function (e) {
        return el('li', { text: '+' + e.after_seconds.toFixed(1) + ' s  ' + e.event + ' (' + e.device + ')' + (e.detail ? ' ' + e.detail : '') });
      })) : el('p', { class: 'muted', text: 'The Web SDK has not opened this validation.' });
      var reqs = el('table', { class: 'grid small', 'data-testid': 'requests' }, [
        el('thead', {}, [el('tr', {}, ['Received (s)', 'Method', 'Path', 'Kind', 'Status', 'Fault'].map(function (h) { return el('th', { text: h }); }))]),
        el('tbody', {}, v.requests.map(function (r) {
          return el('tr', {}, [r.received.toFixed(3), r.method, r.path, r.kind, String(r.status), r.fault || ''].map(function (c) { return el('td', { text: c }); }));
        }))
      ]);
      box.replaceChildren(
        el('h2', { text: v.validation_id }),
        el('p', {}, [el('strong', { 'data-testid': 'detail-status', text: statusText(v) }), ' · scenario ', el('code', { text: v.scenario }),
          ' · account_id ', el('code', { text: v.account_id }), ' · phase ' + v.phase + ' · timeout ' + v.timeout_seconds + ' s']),
        el('div', { class: 'cols' }, [
          el('div', {}, [el('h3', { text: 'Scenario timeline' }), timeline]),
          el('div', {}, [el('h3', { text: 'User journey' }), events])
        ]),
        el('h3', { text: 'Requests received (' + v.requests.length + ')' }), reqs
      );
    });
  }

  $('filters').addEventListener('submit', function (e) { e.preventDefault(); selected = $('f-validation_id').value.trim() || selected; refresh(); });
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
