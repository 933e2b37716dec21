/*
 * Stand-in for the TruIdentidad Web SDK, served by truidentidad-mock at /truorasdk.js.
 *
 * Same integration surface as Truora's script: load it (classic or type="module"), then
 *   window.TruoraSDK.init({ element_id, validation_id, document_number, lang, on_complete, on_expired })
 * A module runs after inline scripts: call init from <body onload> (as Truora's iOS wrapper
 * does), or queue it with the one-line stub at the end of this file.
 * To test offline, swap only the script (and stylesheet) URL for the mock's:
 *   <script type="module" src="http://127.0.0.1:8080/truorasdk.js"></script>
 *   <link rel="stylesheet" crossorigin href="http://127.0.0.1:8080/truorasdk.css">
 * The SDK talks to the mock's Web Adapter on the origin it was loaded from. The outcome comes
 * from the validation's scenario, never from analysing the video.
 *
 * Callbacks: on_complete({status: "succeeded" | "failed", validationID}) once the validation
 * finished; on_expired({status: "expired", validationID}) when it expired first. Each fires once.
 * `init` returns the journey; its `cancel()` (mock only) is what the WebView page's back button
 * calls.
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

  /* The document-number rule, mirrored from mock-server/src/document.rs (a Rust test and a
   * browser test hold both to the same answers). Dots and spaces are formatting. */
  var DOCUMENT_DIGITS = { min: 3, max: 15 };
  function normaliseDocument(raw) {
    var digits = String(raw == null ? '' : raw).trim().replace(/[. \u00a0]/g, '');
    return digits.length >= DOCUMENT_DIGITS.min && digits.length <= DOCUMENT_DIGITS.max && /^[0-9]+$/.test(digits) ? digits : null;
  }

  /* What the person reads. Never a code, an id or a developer message: those go to the
   * callback and the console. */
  var STRINGS = {
    es: {
      page_title: 'Verificación de identidad',
      intro_title: 'Verifica tu identidad',
      intro_text: 'Para verificar tu identidad grabaremos un video corto de tu rostro y lo compararemos con la Registraduría.',
      intro_steps: ['Ingresa tu número de documento', 'Acepta la política de datos', 'Permite tu ubicación', 'Graba un video corto de tu rostro'],
      start: 'Comenzar verificación',
      cancel: 'Cancelar',
      handoff_title: '¿Prefieres usar tu celular?',
      handoff_text: 'Escanea el código QR o abre este enlace en tu celular para continuar allí.',
      handoff_link: 'Continuar en el celular',
      handoff_qr: 'Código QR para continuar en el celular',
      handoff_waiting_title: 'Continúa en tu celular',
      handoff_waiting_text: 'Sigue los pasos en tu celular. Esta página se actualizará cuando termines.',
      handoff_back_desktop: 'Continuar en este computador',
      handoff_waiting_title_phone: 'Continúa en tu computador',
      handoff_waiting_text_phone: 'La verificación siguió en tu computador. Esta página se actualizará cuando termines.',
      handoff_back_phone: 'Continuar en este celular',
      document_title: 'Número de documento',
      document_text: 'Ingresa el número de tu cédula de ciudadanía. Puedes escribirlo con o sin puntos.',
      document_label: 'Número de documento',
      document_invalid: 'Revisa el número: debe tener entre ' + DOCUMENT_DIGITS.min + ' y ' + DOCUMENT_DIGITS.max + ' dígitos, sin letras.',
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
      get_ready: '¡Prepárate! grabaremos tu rostro en',
      recording: '¡No te muevas! Grabando',
      uploading: 'Enviando video...',
      processing: 'Verificando rostro...',
      loading: 'Cargando...',
      result_success: '¡Tu identidad fue verificada con éxito!',
      result_success_text: 'Hemos completado tu verificación. Ya puedes continuar.',
      result_failure: 'No logramos verificar tu identidad',
      result_face_text: 'No pudimos confirmar que eres tú en el video. Busca un lugar con buena luz y pide un nuevo intento a quien te solicitó la verificación.',
      result_registry_text: 'No pudimos confirmar tus datos con la Registraduría. Comunícate con quien te solicitó la verificación.',
      result_system_text: 'Tuvimos un problema técnico de nuestro lado. Inténtalo de nuevo más tarde.',
      result_generic_text: 'Comunícate con quien te solicitó la verificación para intentarlo de nuevo.',
      result_declined_policy: 'No aceptaste la política de datos',
      result_declined_policy_text: 'Sin tu autorización no podemos verificar tu identidad. Si cambias de opinión, pide un nuevo intento.',
      result_declined_geo: 'No pudimos usar tu ubicación',
      result_declined_geo_text: 'La verificación necesita tu ubicación. Si quieres intentarlo de nuevo, pide un nuevo intento y permite el acceso.',
      result_declined_camera: 'No pudimos usar tu cámara',
      result_declined_camera_text: 'La verificación necesita tu cámara. Si quieres intentarlo de nuevo, pide un nuevo intento y permite el acceso.',
      result_canceled: 'Cancelaste la verificación',
      result_canceled_text: 'No guardamos ningún video. Puedes pedir un nuevo intento cuando quieras.',
      result_expired: 'El tiempo para verificar tu identidad terminó',
      result_expired_text: 'Pide un nuevo enlace a quien te solicitó la verificación.',
      error_title: 'Algo salió mal',
      error_not_found: 'No encontramos esta verificación. Pide un nuevo enlace a quien te la solicitó.',
      error_conflict: 'Esta verificación cambió en otra pestaña o dispositivo. Reintenta para ver dónde va.',
      error_network: 'No pudimos conectarnos. Revisa tu conexión a internet e inténtalo de nuevo.',
      error_camera: 'No pudimos abrir tu cámara. Revisa que ninguna otra aplicación la esté usando e inténtalo de nuevo.',
      error_too_large: 'El video es demasiado grande. Inténtalo de nuevo.',
      error_generic: 'Tuvimos un problema. Inténtalo de nuevo en un momento.',
      retry: 'Reintentar'
    },
    en: {
      page_title: 'Identity verification',
      intro_title: 'Verify your identity',
      intro_text: 'To verify your identity we will record a short video of your face and compare it with the Registraduría.',
      intro_steps: ['Enter your document number', 'Accept the data policy', 'Allow your location', 'Record a short video of your face'],
      start: 'Start verification',
      cancel: 'Cancel',
      handoff_title: 'Rather use your phone?',
      handoff_text: 'Scan the QR code or open this link on your phone to continue there.',
      handoff_link: 'Continue on your phone',
      handoff_qr: 'QR code to continue on your phone',
      handoff_waiting_title: 'Continue on your phone',
      handoff_waiting_text: 'Follow the steps on your phone. This page updates when you finish.',
      handoff_back_desktop: 'Continue on this computer',
      handoff_waiting_title_phone: 'Continue on your computer',
      handoff_waiting_text_phone: 'The verification moved to your computer. This page updates when you finish.',
      handoff_back_phone: 'Continue on this phone',
      document_title: 'Document number',
      document_text: 'Enter your citizenship card (cédula) number, with or without dots.',
      document_label: 'Document number',
      document_invalid: 'Check the number: it must have ' + DOCUMENT_DIGITS.min + ' to ' + DOCUMENT_DIGITS.max + ' digits and no letters.',
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
      get_ready: 'Get ready! We will record your face in',
      recording: 'Hold still! Recording',
      uploading: 'Sending video...',
      processing: 'Verifying face...',
      loading: 'Loading...',
      result_success: 'Your identity was verified successfully!',
      result_success_text: 'We have completed your verification. You can carry on.',
      result_failure: 'We could not verify your identity',
      result_face_text: 'We could not confirm it is you in the video. Find a place with good light and ask whoever requested the verification for a new attempt.',
      result_registry_text: 'We could not confirm your details with the Registraduría. Please contact whoever requested the verification.',
      result_system_text: 'We had a technical problem on our side. Please try again later.',
      result_generic_text: 'Please contact whoever requested the verification to try again.',
      result_declined_policy: 'You did not accept the data policy',
      result_declined_policy_text: 'Without your authorisation we cannot verify your identity. If you change your mind, ask for a new attempt.',
      result_declined_geo: 'We could not use your location',
      result_declined_geo_text: 'The verification needs your location. To try again, ask for a new attempt and allow access.',
      result_declined_camera: 'We could not use your camera',
      result_declined_camera_text: 'The verification needs your camera. To try again, ask for a new attempt and allow access.',
      result_canceled: 'You cancelled the verification',
      result_canceled_text: 'No video was kept. You can ask for a new attempt whenever you like.',
      result_expired: 'The time to verify your identity ran out',
      result_expired_text: 'Ask whoever requested the verification for a new link.',
      error_title: 'Something went wrong',
      error_not_found: 'We could not find this verification. Ask whoever requested it for a new link.',
      error_conflict: 'This verification changed in another tab or device. Try again to see where it is.',
      error_network: 'We could not connect. Check your internet connection and try again.',
      error_camera: 'We could not open your camera. Check that no other app is using it and try again.',
      error_too_large: 'The video is too large. Please try again.',
      error_generic: 'We had a problem. Please try again in a moment.',
      retry: 'Try again'
    }
  };

  /* Declined reasons grouped by what the person can do about them (codes: docs/fidelity.md). */
  var PERSON_RESULT = {
    data_authorization_not_provided: ['result_declined_policy', 'result_declined_policy_text'],
    geolocation_denied: ['result_declined_geo', 'result_declined_geo_text'],
    unwanted_camera_permissions: ['result_declined_camera', 'result_declined_camera_text'],
    canceled: ['result_canceled', 'result_canceled_text']
  };
  var REGISTRY_REASONS = /government_database|dead_person|document_unregistered|registrar|underage|age_above/;

  /** The title and text the person sees for a finished validation. */
  function resultText(t, st) {
    if (st.result === 'succeeded') return { kind: 'success', title: t.result_success, text: t.result_success_text };
    if (st.result === 'expired') return { kind: 'expired', title: t.result_expired, text: t.result_expired_text };
    var mine = PERSON_RESULT[st.declined_reason];
    if (mine) return { kind: 'failure', title: t[mine[0]], text: t[mine[1]] };
    var text = st.failure_status === 'system_error' ? t.result_system_text
      : REGISTRY_REASONS.test(st.declined_reason || '') ? t.result_registry_text
      : st.declined_reason ? t.result_face_text : t.result_generic_text;
    return { kind: 'failure', title: t.result_failure, text: text };
  }

  function langOf(cfg) { return cfg && cfg.lang === 'en' ? 'en' : 'es'; }

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

  /** A Web Adapter answer that was not a success. `message` is for developers (console only). */
  function AdapterError(status, message) {
    this.status = status;
    this.message = message;
  }

  function Journey(cfg, root) {
    this.cfg = cfg;
    this.root = root;
    this.lang = langOf(cfg);
    this.t = STRINGS[this.lang];
    this.device = cfg.device === 'phone' ? 'phone' : 'desktop';
    this.url = BASE + '/web-adapter/v1/validations/' + encodeURIComponent(cfg.validation_id);
    this.finished = false;
    this.busy = false;
    this.screen = null;
    this.stream = null;
    this.shown = 0;
    // The live region stays while screens change, so screen readers hear progress and results.
    this.live = h('div', { class: 'truora-sr-only', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'live' });
    this.card = h('div', { class: 'truora-card' });
    root.replaceChildren(h('div', { class: 'truora-sdk', lang: this.lang }, [this.live, this.card]));
  }

  Journey.prototype.log = function (level, what) {
    var c = window.console;
    if (c && c[level]) c[level]('[TruoraSDK mock] ' + what);
  };

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
    }, function (e) { throw new AdapterError(0, 'network error: ' + ((e && e.message) || e)); });
  };

  Journey.prototype.start = function () {
    this.show('loading', [h('h2', { text: this.t.loading })]);
    this.open();
  };

  /* Opens the journey on this device: at start, and when the person takes it back here. */
  Journey.prototype.open = function () {
    var self = this;
    return this.call('POST', '/open', { device: this.device, document_number: this.cfg.document_number || undefined })
      .then(function (st) { self.update(st, true); if (!self.timer) self.poll(); })
      .catch(function (e) {
        // A page reloaded after the validation finished: report the outcome, not an error.
        if (e.status !== 409) return self.fail(e);
        return self.call('GET', '').then(function (st) {
          if (st.result !== 'pending') return self.finish(st);
          self.fail(e);
        }).catch(function () { self.fail(e); });
      });
  };

  /* Keeps watching the validation: expiry, the other device taking over, and the outcome. */
  Journey.prototype.poll = function () {
    var self = this;
    this.timer = setInterval(function () {
      if (self.finished) return;
      self.call('GET', '').then(function (st) {
        if (st.result !== 'pending') return self.finish(st);
        var j = st.journey || {};
        if (j.device && j.device !== self.device && self.screen !== 'handoff-waiting') return self.handoffWaiting();
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
      .catch(function (e) { self.busy = false; throw e; });
  };

  /* A step whose failure is shown as the error screen. */
  Journey.prototype.act = function (name, body) {
    var self = this;
    return this.step(name, body).catch(function (e) { self.fail(e); });
  };

  Journey.prototype.update = function (st, opened) {
    if (this.finished) return;
    if (st.result !== 'pending') return this.finish(st);
    var j = st.journey || {};
    this.maxVideo = st.max_video_bytes;
    if (!opened && j.device && j.device !== this.device) return this.handoffWaiting();
    var render = {
      intro: this.intro, document: this.documentStep, consent: this.consent,
      geolocation: this.geolocation, liveness: this.liveness, processing: this.processing
    }[j.step];
    if (render) render.call(this);
  };

  /* Replaces the screen, announces it and moves focus to its heading (not on the first
   * screen, so loading the SDK does not pull focus away from the integrator's page). */
  Journey.prototype.show = function (name, children, announce) {
    this.screen = name;
    this.root.setAttribute('data-truora-step', name);
    this.card.className = 'truora-card truora-screen-' + name;
    this.card.replaceChildren.apply(this.card, children.filter(Boolean));
    var heading = this.card.querySelector('h2');
    if (heading) heading.setAttribute('tabindex', '-1');
    this.live.textContent = announce || (heading ? heading.textContent : '');
    if (heading && this.shown++ > 0) heading.focus();
  };

  /* Screens a person may leave by cancelling (a host's back button, docs/mobile.md). Not once
   * the camera records or the video is on its way: the validation is then the service's. */
  var CANCELLABLE = ['intro', 'document', 'consent', 'geolocation', 'liveness', 'handoff-waiting'];

  /** Cancels as the "cancel" button does; false when this screen cannot be left that way. */
  Journey.prototype.cancel = function () {
    if (this.finished || CANCELLABLE.indexOf(this.screen) < 0) return false;
    this.act('cancel', { reason: 'canceled' });
    return true;
  };

  Journey.prototype.cancelButton = function () {
    var self = this;
    return h('button', { type: 'button', class: 'truora-link', 'data-testid': 'cancel', text: this.t.cancel, on: { click: function () {
      self.act('cancel', { reason: 'canceled' });
    } } });
  };

  Journey.prototype.intro = function () {
    var t = this.t, self = this;
    var children = [
      h('h2', { text: t.intro_title }),
      h('p', { text: t.intro_text }),
      h('ol', { class: 'truora-steps' }, t.intro_steps.map(function (s) { return h('li', { text: s }); })),
      h('button', { type: 'button', class: 'truora-primary', 'data-testid': 'start', text: t.start, on: { click: function () { self.act('intro'); } } }),
      this.cancelButton()
    ];
    if (this.device === 'desktop' && window.matchMedia('(min-width: 768px)').matches) {
      var q = '?lang=' + this.lang;
      var link = BASE + '/journey/' + encodeURIComponent(this.cfg.validation_id) + q;
      children.push(h('div', { class: 'truora-handoff', 'data-testid': 'handoff' }, [
        h('img', { src: this.url + '/handoff.svg' + q, alt: t.handoff_qr, width: '132', height: '132', 'data-testid': 'handoff-qr' }),
        h('div', {}, [
          h('p', { class: 'truora-strong', text: t.handoff_title }),
          h('p', { class: 'truora-muted', text: t.handoff_text }),
          h('a', { href: link, target: '_blank', rel: 'noopener', 'data-testid': 'handoff-link', text: t.handoff_link })
        ])
      ]));
    }
    this.show('intro', children);
  };

  /* The document number, checked as typed by the rule the API uses; what was typed stays. */
  Journey.prototype.documentStep = function () {
    var t = this.t, self = this;
    var error = h('p', { id: 'truora-document-error', class: 'truora-field-error', 'data-testid': 'document-error' });
    var input = h('input', { id: 'truora-document', name: 'document_number', inputmode: 'numeric', autocomplete: 'off', 'aria-describedby': 'truora-document-hint', 'data-testid': 'document-input' });
    var invalid = function (on) {
      error.textContent = on ? t.document_invalid : '';
      if (on) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', 'truora-document-hint truora-document-error');
      } else {
        input.removeAttribute('aria-invalid');
        input.setAttribute('aria-describedby', 'truora-document-hint');
      }
    };
    input.addEventListener('input', function () { if (input.getAttribute('aria-invalid') && normaliseDocument(input.value)) invalid(false); });
    var form = h('form', { novalidate: '', on: { submit: function (e) {
      e.preventDefault();
      var d = normaliseDocument(input.value);
      if (!d) { invalid(true); input.focus(); return; }
      self.step('document', { document_number: d }).catch(function (err) {
        if (err.status === 400) { invalid(true); input.focus(); self.log('warn', 'document refused: ' + err.message); } else self.fail(err);
      });
    } } }, [
      h('label', { for: 'truora-document', text: t.document_label }), input, error,
      h('button', { class: 'truora-primary', type: 'submit', 'data-testid': 'document-submit', text: t.continue })
    ]);
    this.show('document', [h('h2', { text: t.document_title }), h('p', { id: 'truora-document-hint', text: t.document_text }), form, this.cancelButton()]);
  };

  Journey.prototype.consent = function () {
    var t = this.t, self = this;
    this.show('consent', [
      h('h2', { text: t.consent_title }),
      h('p', { class: 'truora-policy', text: t.consent_text }),
      h('button', { type: 'button', class: 'truora-primary', 'data-testid': 'consent-accept', text: t.accept, on: { click: function () { self.act('consent', { accepted: true }); } } }),
      h('button', { type: 'button', class: 'truora-secondary', 'data-testid': 'consent-decline', text: t.decline, on: { click: function () { self.act('consent', { accepted: false }); } } })
    ]);
  };

  Journey.prototype.geolocation = function () {
    var t = this.t, self = this;
    var note = h('p', { class: 'truora-muted', role: 'status' });
    var ask = function () {
      if (!navigator.geolocation) return self.act('geolocation', { granted: false });
      navigator.geolocation.getCurrentPosition(function (pos) {
        self.act('geolocation', { granted: true, latitude: pos.coords.latitude, longitude: pos.coords.longitude });
      }, function (err) {
        if (err.code === err.PERMISSION_DENIED) self.act('geolocation', { granted: false });
        else note.textContent = t.geo_unavailable;
      }, { timeout: 10000 });
    };
    this.show('geolocation', [
      h('h2', { text: t.geo_title }), h('p', { text: t.geo_text }),
      h('button', { type: 'button', class: 'truora-primary', 'data-testid': 'geolocation-allow', text: t.geo_button, on: { click: ask } }),
      note, this.cancelButton()
    ]);
  };

  Journey.prototype.liveness = function () {
    var t = this.t, self = this;
    this.show('liveness', [
      h('h2', { text: t.liveness_title }), h('p', { text: t.liveness_text }),
      h('button', { type: 'button', class: 'truora-primary', 'data-testid': 'record', text: t.liveness_button, on: { click: function () { self.record(); } } }),
      this.cancelButton()
    ]);
  };

  Journey.prototype.record = function () {
    var t = this.t, self = this;
    if (!navigator.mediaDevices || !window.MediaRecorder) return this.fail(new AdapterError(-1, 'no camera API (getUserMedia/MediaRecorder) in this browser'));
    navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false }).then(function (stream) {
      self.stream = stream;
      // Inline, muted and started by script: WebViews (iOS above all) otherwise open video full
      // screen or wait for a gesture; the person's tap on "record" came just before.
      var video = h('video', { autoplay: '', muted: '', playsinline: '', 'webkit-playsinline': '', class: 'truora-video', 'aria-hidden': 'true' });
      video.muted = true;
      video.srcObject = stream;
      var playing = video.play && video.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay attribute retries */ });
      var label = h('p', { class: 'truora-countdown', 'data-testid': 'countdown' });
      self.show('recording', [h('h2', { text: t.liveness_title }), h('div', { class: 'truora-oval' }, [video]), label]);
      var n = COUNTDOWN;
      var tick = function () {
        if (self.finished) return;
        if (n > 0) { label.textContent = t.get_ready + ' ' + n; n -= 1; return setTimeout(tick, 600); }
        label.textContent = t.recording;
        self.live.textContent = t.recording;
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
        self.act('cancel', { reason: 'unwanted_camera_permissions' });
      } else {
        self.fail(new AdapterError(-1, 'the camera could not start: ' + (err && err.name)));
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
    if (this.maxVideo && blob.size > this.maxVideo) return this.fail(new AdapterError(413, 'the video is ' + blob.size + ' bytes; the limit is ' + this.maxVideo));
    this.show('uploading', [h('h2', { text: t.uploading }), h('div', { class: 'truora-spinner', 'aria-hidden': 'true' })]);
    this.call('POST', '/steps/liveness?device=' + this.device, blob, (blob.type || 'video/webm').split(';')[0])
      .then(function (st) { self.update(st); })
      .catch(function (e) { self.fail(e); });
  };

  Journey.prototype.processing = function () {
    this.show('processing', [h('h2', { 'data-testid': 'processing', text: this.t.processing }), h('div', { class: 'truora-spinner', 'aria-hidden': 'true' })]);
  };

  /* The other device has the journey. Either device can take it back. */
  Journey.prototype.handoffWaiting = function () {
    var t = this.t, self = this, phone = this.device === 'phone';
    this.show('handoff-waiting', [
      h('h2', { text: phone ? t.handoff_waiting_title_phone : t.handoff_waiting_title }),
      h('div', { class: 'truora-spinner', 'aria-hidden': 'true' }),
      h('p', { class: 'truora-muted', text: phone ? t.handoff_waiting_text_phone : t.handoff_waiting_text }),
      h('button', { type: 'button', class: 'truora-secondary', 'data-testid': 'take-back', text: phone ? t.handoff_back_phone : t.handoff_back_desktop, on: { click: function () { self.open(); } } })
    ]);
  };

  Journey.prototype.finish = function (st) {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.stopCamera();
    var r = resultText(this.t, st);
    this.show('result', [
      h('div', { class: 'truora-badge truora-badge-' + r.kind, 'aria-hidden': 'true', text: r.kind === 'success' ? '✓' : '✕' }),
      h('h2', { 'data-testid': 'result-title', 'data-result': st.result, text: r.title }),
      h('p', { class: 'truora-muted', 'data-testid': 'result-text', text: r.text })
    ], r.title + '. ' + r.text);
    // The codes are for the integrator: the callback carries the status, the console the reason.
    var code = [st.validation_status, st.failure_status, st.declined_reason || st.expired_reason].filter(Boolean).join('/');
    this.log('info', 'validation ' + (st.validation_id || this.cfg.validation_id) + ' finished: ' + code);
    var payload = { status: st.result, validationID: st.validation_id || this.cfg.validation_id };
    var cb = st.result === 'expired' ? this.cfg.on_expired : this.cfg.on_complete;
    if (typeof cb === 'function') {
      try { cb(payload); } catch (e) { setTimeout(function () { throw e; }); }
    }
  };

  /* A problem the person can do something about, in their language; the developer's message
   * (the Web Adapter's, in English) goes to the console. */
  Journey.prototype.fail = function (e) {
    var self = this, t = this.t;
    var status = e && e.status;
    this.log('error', 'validation ' + this.cfg.validation_id + ': ' + (status > 0 ? 'HTTP ' + status + ': ' : '') + ((e && e.message) || e));
    var msg = status === 404 ? t.error_not_found : status === 409 ? t.error_conflict : status === 413 ? t.error_too_large
      : status === 0 ? t.error_network : status === -1 ? t.error_camera : t.error_generic;
    this.show('error', [
      h('h2', { text: t.error_title }),
      h('p', { class: 'truora-error', 'data-testid': 'error-message', text: msg }),
      h('button', { type: 'button', class: 'truora-secondary', text: t.retry, on: { click: function () {
        self.call('GET', '').then(function (st) {
          var j = st.journey || {};
          if (st.result === 'pending' && j.device && j.device !== self.device) return self.open();
          self.update(st);
        }).catch(function (err) { self.fail(err); });
      } } })
    ], t.error_title + '. ' + msg);
  };

  function init(cfg) {
    if (!cfg || typeof cfg !== 'object') throw new Error('TruoraSDK.init needs a config object');
    if (!cfg.validation_id) throw new Error('TruoraSDK.init: validation_id is required');
    var root = document.getElementById(cfg.element_id);
    if (!root && document.readyState === 'loading') {
      // Called from <head> before the element was parsed: start once it exists.
      document.addEventListener('DOMContentLoaded', function () { init(cfg); });
      return undefined;
    }
    if (!root) throw new Error('TruoraSDK.init: no element with id "' + cfg.element_id + '" (element_id)');
    ensureStylesheet();
    var j = new Journey(cfg, root);
    j.start();
    return j;
  }

  /* Calls queued before this script ran: a page that loads the SDK as a module (which runs
   * after inline scripts) may call init through the one-line stub the README shows,
   *   window.TruoraSDK = window.TruoraSDK || { q: [], init(c) { this.q.push(c); } };
   * and the calls are replayed here, in order. */
  var queued = window.TruoraSDK && Array.isArray(window.TruoraSDK.q) ? window.TruoraSDK.q : [];
  window.TruoraSDK = { init: init, version: 'mock', normaliseDocument: normaliseDocument, DOCUMENT_DIGITS: DOCUMENT_DIGITS };
  queued.forEach(function (cfg) {
    try { init(cfg); } catch (e) { setTimeout(function () { throw e; }); }
  });
})();
