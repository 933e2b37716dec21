/*
 * Stand-in for the TruIdentidad Web SDK, served by truidentidad-mock at /truorasdk.js.
 *
 * Same integration surface as Truora's script: load it (classic or type="module"), then
 *   window.TruoraSDK.init({ element_id, validation_id, document_number, lang, on_complete, on_expired })
 * To test offline, swap only the script (and stylesheet) URL for the mock's:
 *   <script type="module" src="http://127.0.0.1:8080/truorasdk.js"></script>
 *   <link rel="stylesheet" crossorigin href="http://127.0.0.1:8080/truorasdk.css">
 * The SDK talks to the mock's Web Adapter on the origin it was loaded from. The outcome comes
 * from the validation's scenario, never from analysing the video.
 *
 * Callbacks: on_complete({status: "succeeded" | "failed", validationID}) once the validation
 * finished; on_expired({status: "expired", validationID}) when it expired first. Each fires once.
 */
(function () {
  'use strict';

  var script = document.currentScript || Array.prototype.find.call(
    document.querySelectorAll('script[src]'),
    function (s) { return /truorasdk\.js(\?|#|$)/.test(s.src); }
  );
  var BASE = script ? new URL(script.src, location.href).origin : location.origin;
  var POLL_MS = 1000;
  var COUNTDOWN = 3;
  var RECORD_MS = 2000;

  var STRINGS = {
    es: {
      intro_title: 'Verifica tu identidad',
      intro_text: 'Para verificar tu identidad grabaremos un video corto de tu rostro y lo compararemos con la Registraduría.',
      intro_steps: ['Ingresa tu número de documento', 'Acepta la política de datos', 'Permite tu ubicación', 'Graba un video corto de tu rostro'],
      start: 'Comenzar verificación',
      cancel: 'Cancelar',
      handoff_title: '¿Prefieres usar tu celular?',
      handoff_text: 'Escanea el código QR o abre este enlace en tu celular para continuar allí.',
      handoff_link: 'Continuar en el celular',
      handoff_waiting_title: 'Continúa en tu celular',
      handoff_waiting_text: 'Sigue los pasos en tu celular. Esta página se actualizará cuando termines.',
      document_title: 'Número de documento',
      document_text: 'Ingresa el número de tu cédula de ciudadanía, sin puntos ni espacios.',
      document_label: 'Número de documento',
      continue: 'Continuar',
      consent_title: 'Política de tratamiento de datos',
      consent_text: 'Autorizo el tratamiento de mis datos personales y biométricos para validar mi identidad ante la Registraduría Nacional del Estado Civil, conforme a la Ley 1581 de 2012.',
      accept: 'Acepto',
      decline: 'No acepto',
      geo_title: 'Permite tu ubicación',
      geo_text: 'Necesitamos tu ubicación para continuar. Tu navegador te pedirá permiso.',
      geo_button: 'Permitir ubicación',
      geo_unavailable: 'No pudimos obtener tu ubicación. Inténtalo de nuevo.',
      liveness_title: 'Graba tu rostro',
      liveness_text: 'Pon tu celular frente a tu rostro, con buena luz y sin gafas.',
      liveness_button: 'Grabar video',
      camera_denied: 'Se requiere acceso a la cámara',
      get_ready: '¡Prepárate! grabaremos tu rostro en',
      recording: '¡No te muevas! Grabando',
      uploading: 'Enviando video...',
      processing: 'Verificando rostro...',
      result_success: '¡Tu identidad fue verificada con éxito!',
      result_failure: 'No logramos verificar tu identidad',
      result_expired: 'El tiempo para verificar tu identidad terminó',
      result_done: 'Hemos completado tu verificación',
      error_title: 'Algo salió mal',
      retry: 'Reintentar',
      too_large: 'El video es demasiado grande.',
      loading: 'Cargando...'
    },
    en: {
      intro_title: 'Verify your identity',
      intro_text: 'To verify your identity we will record a short video of your face and compare it with the Registraduría.',
      intro_steps: ['Enter your document number', 'Accept the data policy', 'Allow your location', 'Record a short video of your face'],
      start: 'Start verification',
      cancel: 'Cancel',
      handoff_title: 'Rather use your phone?',
      handoff_text: 'Scan the QR code or open this link on your phone to continue there.',
      handoff_link: 'Continue on your phone',
      handoff_waiting_title: 'Continue on your phone',
      handoff_waiting_text: 'Follow the steps on your phone. This page updates when you finish.',
      document_title: 'Document number',
      document_text: 'Enter your citizenship card (cédula) number, without dots or spaces.',
      document_label: 'Document number',
      continue: 'Continue',
      consent_title: 'Data processing policy',
      consent_text: 'I authorise the processing of my personal and biometric data to validate my identity against the Registraduría Nacional del Estado Civil, under Law 1581 of 2012.',
      accept: 'I accept',
      decline: 'I do not accept',
      geo_title: 'Allow your location',
      geo_text: 'We need your location to continue. Your browser will ask for permission.',
      geo_button: 'Allow location',
      geo_unavailable: 'We could not get your location. Please try again.',
      liveness_title: 'Record your face',
      liveness_text: 'Hold your phone in front of your face, in good light and without glasses.',
      liveness_button: 'Record video',
      camera_denied: 'Camera access is required',
      get_ready: 'Get ready! We will record your face in',
      recording: 'Hold still! Recording',
      uploading: 'Sending video...',
      processing: 'Verifying face...',
      result_success: 'Your identity was verified successfully!',
      result_failure: 'We could not verify your identity',
      result_expired: 'The time to verify your identity ran out',
      result_done: 'We have completed your verification',
      error_title: 'Something went wrong',
      retry: 'Try again',
      too_large: 'The video is too large.',
      loading: 'Loading...'
    }
  };

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'on') Object.keys(attrs.on).forEach(function (ev) { el.addEventListener(ev, attrs.on[ev]); });
      else el.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }

  function ensureStylesheet() {
    var has = Array.prototype.some.call(document.querySelectorAll('link[rel=stylesheet]'), function (l) {
      return /truorasdk\.css(\?|#|$)/.test(l.href);
    });
    if (!has) document.head.appendChild(h('link', { rel: 'stylesheet', href: BASE + '/truorasdk.css' }));
  }

  function AdapterError(status, message) {
    this.status = status;
    this.message = message;
  }

  function Journey(cfg, root) {
    this.cfg = cfg;
    this.root = root;
    this.t = STRINGS[cfg.lang] || STRINGS.es;
    this.device = cfg.device === 'phone' ? 'phone' : 'desktop';
    this.url = BASE + '/web-adapter/v1/validations/' + encodeURIComponent(cfg.validation_id);
    this.finished = false;
    this.busy = false;
    this.screen = null;
    this.stream = null;
  }

  Journey.prototype.call = function (method, path, body, contentType) {
    var opts = { method: method, headers: {} };
    if (body !== undefined) {
      opts.body = body instanceof Blob ? body : JSON.stringify(body);
      opts.headers['Content-Type'] = contentType || 'application/json';
    }
    return fetch(this.url + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new AdapterError(r.status, j.message || ('HTTP ' + r.status));
        return j;
      });
    });
  };

  Journey.prototype.start = function () {
    var self = this;
    this.show('loading', [h('p', { class: 'truora-muted', text: this.t.loading })]);
    this.call('POST', '/open', { device: this.device, document_number: this.cfg.document_number || undefined })
      .then(function (st) { self.update(st); self.poll(); })
      .catch(function (e) {
        // A page reloaded after the validation finished: report the outcome, not an error.
        if (e.status !== 409) return self.fail(e);
        return self.call('GET', '').then(function (st) {
          if (st.result !== 'pending') return self.finish(st);
          self.fail(e);
        }).catch(function () { self.fail(e); });
      });
  };

  /* Keeps watching the validation: expiry, a phone taking over, and the outcome. */
  Journey.prototype.poll = function () {
    var self = this;
    this.timer = setInterval(function () {
      if (self.finished) return;
      self.call('GET', '').then(function (st) {
        if (st.result !== 'pending') return self.finish(st);
        var j = st.journey || {};
        if (self.device === 'desktop' && j.device === 'phone' && self.screen !== 'handoff-waiting') self.handoffWaiting();
        if (j.step === 'processing' && self.screen !== 'processing' && self.screen !== 'uploading') self.update(st);
      }).catch(function () { /* transient; the next tick retries */ });
    }, POLL_MS);
  };

  Journey.prototype.step = function (name, body) {
    var self = this;
    if (this.busy || this.finished) return Promise.resolve();
    this.busy = true;
    body = body || {};
    body.device = this.device;
    return this.call('POST', '/steps/' + name, body)
      .then(function (st) { self.busy = false; self.update(st); })
      .catch(function (e) { self.busy = false; self.fail(e); });
  };

  Journey.prototype.update = function (st) {
    if (this.finished) return;
    if (st.result !== 'pending') return this.finish(st);
    var step = (st.journey || {}).step;
    this.maxVideo = st.max_video_bytes;
    if (this.device === 'desktop' && (st.journey || {}).device === 'phone') return this.handoffWaiting();
    var render = {
      intro: this.intro, document: this.documentStep, consent: this.consent,
      geolocation: this.geolocation, liveness: this.liveness, processing: this.processing
    }[step];
    if (render) render.call(this);
  };

  Journey.prototype.show = function (name, children) {
    this.screen = name;
    this.root.setAttribute('data-truora-step', name);
    var card = h('div', { class: 'truora-card truora-screen-' + name }, children);
    this.root.replaceChildren(h('div', { class: 'truora-sdk', lang: this.cfg.lang === 'en' ? 'en' : 'es' }, [card]));
  };

  Journey.prototype.cancelButton = function () {
    var self = this;
    return h('button', { class: 'truora-link', 'data-testid': 'cancel', text: this.t.cancel, on: { click: function () {
      self.step('cancel', { reason: 'canceled' });
    } } });
  };

  Journey.prototype.intro = function () {
    var t = this.t, self = this;
    var children = [
      h('h2', { text: t.intro_title }),
      h('p', { text: t.intro_text }),
      h('ol', { class: 'truora-steps' }, t.intro_steps.map(function (s) { return h('li', { text: s }); })),
      h('button', { class: 'truora-primary', 'data-testid': 'start', text: t.start, on: { click: function () { self.step('intro'); } } }),
      this.cancelButton()
    ];
    if (this.device === 'desktop' && window.matchMedia('(min-width: 768px)').matches) {
      var link = BASE + '/journey/' + encodeURIComponent(this.cfg.validation_id) + '?lang=' + (this.cfg.lang === 'en' ? 'en' : 'es');
      children.push(h('div', { class: 'truora-handoff', 'data-testid': 'handoff' }, [
        h('img', { src: this.url + '/handoff.svg', alt: 'QR', width: '132', height: '132' }),
        h('div', {}, [
          h('strong', { text: t.handoff_title }),
          h('p', { class: 'truora-muted', text: t.handoff_text }),
          h('a', { href: link, target: '_blank', rel: 'noopener', 'data-testid': 'handoff-link', text: t.handoff_link })
        ])
      ]));
    }
    this.show('intro', children);
  };

  Journey.prototype.documentStep = function () {
    var t = this.t, self = this;
    var input = h('input', { id: 'truora-document', inputmode: 'numeric', autocomplete: 'off', maxlength: '12', 'data-testid': 'document-input' });
    var form = h('form', { on: { submit: function (e) { e.preventDefault(); self.step('document', { document_number: input.value.trim() }); } } }, [
      h('label', { for: 'truora-document', text: t.document_label }), input,
      h('button', { class: 'truora-primary', type: 'submit', 'data-testid': 'document-submit', text: t.continue })
    ]);
    this.show('document', [h('h2', { text: t.document_title }), h('p', { text: t.document_text }), form, this.cancelButton()]);
    input.focus();
  };

  Journey.prototype.consent = function () {
    var t = this.t, self = this;
    this.show('consent', [
      h('h2', { text: t.consent_title }),
      h('p', { class: 'truora-policy', text: t.consent_text }),
      h('button', { class: 'truora-primary', 'data-testid': 'consent-accept', text: t.accept, on: { click: function () { self.step('consent', { accepted: true }); } } }),
      h('button', { class: 'truora-secondary', 'data-testid': 'consent-decline', text: t.decline, on: { click: function () { self.step('consent', { accepted: false }); } } })
    ]);
  };

  Journey.prototype.geolocation = function () {
    var t = this.t, self = this;
    var note = h('p', { class: 'truora-muted', role: 'status' });
    var ask = function () {
      if (!navigator.geolocation) return self.step('geolocation', { granted: false });
      navigator.geolocation.getCurrentPosition(function (pos) {
        self.step('geolocation', { granted: true, latitude: pos.coords.latitude, longitude: pos.coords.longitude });
      }, function (err) {
        if (err.code === err.PERMISSION_DENIED) self.step('geolocation', { granted: false });
        else note.textContent = t.geo_unavailable;
      }, { timeout: 10000 });
    };
    this.show('geolocation', [
      h('h2', { text: t.geo_title }), h('p', { text: t.geo_text }),
      h('button', { class: 'truora-primary', 'data-testid': 'geolocation-allow', text: t.geo_button, on: { click: ask } }),
      note, this.cancelButton()
    ]);
  };

  Journey.prototype.liveness = function () {
    var t = this.t, self = this;
    this.show('liveness', [
      h('h2', { text: t.liveness_title }), h('p', { text: t.liveness_text }),
      h('button', { class: 'truora-primary', 'data-testid': 'record', text: t.liveness_button, on: { click: function () { self.record(); } } }),
      this.cancelButton()
    ]);
  };

  Journey.prototype.record = function () {
    var t = this.t, self = this;
    if (!navigator.mediaDevices || !window.MediaRecorder) return this.fail(new AdapterError(0, t.camera_denied));
    navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false }).then(function (stream) {
      self.stream = stream;
      var video = h('video', { autoplay: '', muted: '', playsinline: '', class: 'truora-video' });
      video.srcObject = stream;
      var label = h('p', { class: 'truora-countdown', 'data-testid': 'countdown' });
      self.show('recording', [h('h2', { text: t.liveness_title }), h('div', { class: 'truora-oval' }, [video]), label]);
      var n = COUNTDOWN;
      var tick = function () {
        if (self.finished) return;
        if (n > 0) { label.textContent = t.get_ready + ' ' + n; n -= 1; return setTimeout(tick, 600); }
        label.textContent = t.recording;
        var chunks = [];
        var rec = new MediaRecorder(stream, { videoBitsPerSecond: 400000 });
        rec.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
        rec.onstop = function () { self.upload(new Blob(chunks, { type: rec.mimeType || 'video/webm' })); };
        rec.start();
        setTimeout(function () { rec.stop(); }, RECORD_MS);
      };
      tick();
    }, function (err) {
      if (err && (err.name === 'NotAllowedError' || err.name === 'SecurityError')) {
        self.step('cancel', { reason: 'unwanted_camera_permissions' });
      } else {
        self.fail(new AdapterError(0, t.camera_denied + ' (' + (err && err.name) + ')'));
      }
    });
  };

  Journey.prototype.stopCamera = function () {
    if (this.stream) this.stream.getTracks().forEach(function (tr) { tr.stop(); });
    this.stream = null;
  };

  Journey.prototype.upload = function (blob) {
    var self = this, t = this.t;
    this.stopCamera();
    if (this.finished) return;
    if (this.maxVideo && blob.size > this.maxVideo) return this.fail(new AdapterError(413, t.too_large));
    this.show('uploading', [h('div', { class: 'truora-spinner' }), h('p', { text: t.uploading })]);
    this.call('POST', '/steps/liveness?device=' + this.device, blob, (blob.type || 'video/webm').split(';')[0])
      .then(function (st) { self.update(st); })
      .catch(function (e) { self.fail(e); });
  };

  Journey.prototype.processing = function () {
    this.show('processing', [h('div', { class: 'truora-spinner' }), h('p', { 'data-testid': 'processing', text: this.t.processing })]);
  };

  Journey.prototype.handoffWaiting = function () {
    this.show('handoff-waiting', [
      h('h2', { text: this.t.handoff_waiting_title }),
      h('div', { class: 'truora-spinner' }),
      h('p', { class: 'truora-muted', text: this.t.handoff_waiting_text })
    ]);
  };

  Journey.prototype.finish = function (st) {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.stopCamera();
    var t = this.t;
    var kind = st.result === 'succeeded' ? 'success' : st.result === 'expired' ? 'expired' : 'failure';
    var title = { success: t.result_success, failure: t.result_failure, expired: t.result_expired }[kind];
    var reason = st.declined_reason || st.expired_reason || st.failure_status;
    this.show('result', [
      h('div', { class: 'truora-badge truora-badge-' + kind, text: kind === 'success' ? '✓' : '✕' }),
      h('h2', { 'data-testid': 'result-title', 'data-result': st.result, text: title }),
      h('p', { class: 'truora-muted', text: kind === 'success' ? t.result_done : (reason || '') })
    ]);
    var payload = { status: st.result, validationID: st.validation_id || this.cfg.validation_id };
    var cb = st.result === 'expired' ? this.cfg.on_expired : this.cfg.on_complete;
    if (typeof cb === 'function') {
      try { cb(payload); } catch (e) { setTimeout(function () { throw e; }); }
    }
  };

  Journey.prototype.fail = function (e) {
    var self = this;
    var msg = (e && e.message) || String(e);
    this.show('error', [
      h('h2', { text: this.t.error_title }),
      h('p', { class: 'truora-error', role: 'alert', 'data-testid': 'error-message', text: msg }),
      h('button', { class: 'truora-secondary', text: this.t.retry, on: { click: function () {
        self.call('GET', '').then(function (st) { self.update(st); }).catch(function (err) { self.fail(err); });
      } } })
    ]);
  };

  function init(cfg) {
    if (!cfg || typeof cfg !== 'object') throw new Error('TruoraSDK.init needs a config object');
    var root = document.getElementById(cfg.element_id);
    if (!root) throw new Error('TruoraSDK.init: no element with id "' + cfg.element_id + '" (element_id)');
    if (!cfg.validation_id) throw new Error('TruoraSDK.init: validation_id is required');
    ensureStylesheet();
    var j = new Journey(cfg, root);
    j.start();
    return j;
  }

  window.TruoraSDK = { init: init, version: 'mock' };
})();
