// The demo page. Its "backend part" runs here, in the page, calling the public API with a demo
// key: the same requests an integrator's server sends (see web/mod.rs for why).
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var $ = function (id) { return document.getElementById(id); };
  var log = $('backend-log');
  window.demoEvents = [];

  function say(line) {
    log.textContent = (log.textContent === 'No validation yet.' ? '' : log.textContent + '\n') + line;
  }

  ['timeout', 'document_number', 'lang', 'api_key'].forEach(function (k) { if (params.get(k)) $(k).value = params.get(k); });

  // The scenario list comes from the control API, which needs the admin token when the server
  // has one: on 401 the page says so and asks for it, rather than quietly offering `success` only.
  function loadScenarios() {
    return fetch('/_mock/scenarios', { headers: MockAdmin.headers() }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return r.ok ? j : { failed: r.status, message: j.message }; });
    }).catch(function (e) { return { failed: 0, message: e.message }; }).then(showScenarios);
  }
  function showScenarios(j) {
    var msg = $('scenario-msg');
    msg.hidden = j.failed === undefined;
    if (j.failed === 401) {
      msg.textContent = 'No scenarios listed: this server needs its admin token to list them (' + (j.message || 'missing or wrong') + '). Until it is entered below, only "success" can be chosen.';
      MockAdmin.ask($('token-box'), 'The scenario list is read from the control API.', function () { loadScenarios(); });
      return;
    }
    if (j.failed !== undefined) {
      msg.textContent = 'The scenario list could not be loaded (' + (j.failed ? 'HTTP ' + j.failed + ': ' : '') + (j.message || 'no answer') + '). Only "success" can be used.';
      return;
    }
    msg.textContent = '';
    var sel = $('scenario');
    sel.replaceChildren();
    j.scenarios.forEach(function (s) {
      var o = document.createElement('option');
      o.value = s.name; o.textContent = s.name + ' — ' + s.outcome; o.title = s.description;
      sel.appendChild(o);
    });
    sel.value = params.get('scenario') || j.default;
  }
  loadScenarios().then(function () {
    if (params.get('scenario') && $('scenario').value !== params.get('scenario')) {
      var o = document.createElement('option'); o.value = o.textContent = params.get('scenario'); $('scenario').appendChild(o);
      $('scenario').value = params.get('scenario');
    }
    document.body.setAttribute('data-ready', 'true');
  });

  function api(method, path, body) {
    var headers = { 'Truora-API-Key': $('api_key').value };
    if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    // The demo is a person's journey: the outcome waits for their video, however long they
    // read first (await-person mode; see the README).
    if (method === 'POST') headers['X-Mock-Await-Person'] = 'true';
    return fetch(path, { method: method, headers: headers, body: body }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    });
  }

  function pollBackend(id, attempt) {
    api('GET', '/v1/validations/' + id).then(function (r) {
      var st = r.body.validation_status;
      say('GET /v1/validations/' + id + ' → ' + r.status + ' ' + (st || r.body.message));
      if (st === 'pending' && attempt < 60) return setTimeout(function () { pollBackend(id, attempt + 1); }, 1000);
      var out = $('backend-result');
      out.setAttribute('data-status', st || 'error');
      out.textContent = JSON.stringify(r.body, null, 2);
    });
  }

  function onResult(kind) {
    return function (result) {
      window.demoEvents.push({ callback: kind, result: result });
      var out = $('sdk-result');
      out.setAttribute('data-callback', kind);
      out.setAttribute('data-status', result.status);
      out.textContent = kind + '(' + JSON.stringify(result) + ')';
      $('create-button').disabled = false; // ready for the next validation, no reload needed
      pollBackend(result.validationID, 0);
    };
  }

  $('create').addEventListener('submit', function (e) {
    e.preventDefault();
    $('create-button').disabled = true;
    var form = new URLSearchParams({ type: 'government', account_id: $('scenario').value + '.demo-user', timeout: $('timeout').value });
    say('POST /v1/validations  (X-Mock-Await-Person: true)  ' + form.toString());
    api('POST', '/v1/validations', form.toString()).then(function (r) {
      if (r.status !== 200) {
        say('→ ' + r.status + ' ' + r.body.message);
        $('create-button').disabled = false;
        return;
      }
      var id = r.body.validation_id;
      say('→ 200 validation_id=' + id + ' validation_status=' + r.body.validation_status);
      document.body.setAttribute('data-validation-id', id);
      $('links').innerHTML = '';
      var a = document.createElement('a');
      a.href = '/dashboard?validation_id=' + id; a.textContent = 'See this validation in the dashboard';
      $('links').appendChild(a);
      // On a narrow screen the SDK sits below the form: bring it into view, again as its first
      // screens draw (the page may be too short to scroll that far before they do).
      if (window.matchMedia('(max-width: 760px)').matches) {
        var bring = function () { $('truora').scrollIntoView({ block: 'start' }); };
        var watch = new MutationObserver(bring);
        watch.observe($('truora'), { childList: true, subtree: true });
        setTimeout(function () { watch.disconnect(); }, 1500);
        bring();
      }
      window.TruoraSDK.init({
        element_id: 'truora',
        validation_id: id,
        document_number: $('document_number').value || undefined,
        lang: $('lang').value,
        on_complete: onResult('on_complete'),
        on_expired: onResult('on_expired')
      });
    });
  });
})();
