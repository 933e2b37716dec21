// The admin token of `serve --admin-token`, for the mock's own pages (dashboard, demo).
// Entered once in a small form, kept in this tab's sessionStorage (gone when the tab closes)
// and sent as the X-Mock-Admin-Token header. Never put in a URL: URLs end up in history,
// logs and screenshots.
(function () {
  'use strict';
  var KEY = 'truidentidad-mock.admin-token';

  function get() {
    try { return sessionStorage.getItem(KEY) || ''; } catch (e) { return ''; }
  }
  function set(t) {
    try { if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY); } catch (e) { /* storage off: per page only */ }
  }
  function headers(extra) {
    var h = extra || {};
    var t = get();
    if (t) h['X-Mock-Admin-Token'] = t;
    return h;
  }

  // Pages opened with the old `?admin_token=` link: keep the token, drop it from the URL.
  var params = new URLSearchParams(location.search);
  if (params.has('admin_token')) {
    set(params.get('admin_token'));
    params.delete('admin_token');
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : '') + location.hash);
  }

  /**
   * Shows a form in `box` asking for the token, with `why` (the server's message) above it.
   * `onSaved` runs once a token was entered.
   */
  function ask(box, why, onSaved) {
    box.hidden = false;
    box.replaceChildren();
    var form = document.createElement('form');
    form.className = 'token-form';
    form.setAttribute('data-testid', 'admin-token-form');
    var p = document.createElement('p');
    p.id = 'admin-token-why';
    p.className = 'warn';
    p.textContent = why + ' This server was started with --admin-token: enter it once; it is kept for this browser tab only.';
    var label = document.createElement('label');
    label.textContent = 'Admin token ';
    var input = document.createElement('input');
    input.type = 'password';
    input.name = 'admin_token';
    input.autocomplete = 'off';
    input.required = true;
    input.setAttribute('aria-describedby', 'admin-token-why');
    label.appendChild(input);
    var button = document.createElement('button');
    button.type = 'submit';
    button.textContent = 'Use this token';
    form.append(p, label, ' ', button);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      set(input.value.trim());
      box.hidden = true;
      box.replaceChildren();
      onSaved();
    });
    box.appendChild(form);
  }

  window.MockAdmin = { get: get, set: set, headers: headers, ask: ask };
})();
