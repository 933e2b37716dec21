// The WebView host page (/sdk/webview?validation_id=…&lang=es|en): runs the journey full
// screen and reports its end to the app's native bridge, in the format of Truora's own iOS
// wrapper: one string, the prefix `onComplete:` or `onExpired:` followed by the result's JSON,
// {"status": …, "validationID": …}. With `&events=hosted` it speaks the hosted flow's format
// instead: "<event>,<validation_id>" to a handler named `WebViewSDK`. Bridges, message table
// and host snippets: docs/mobile.md (a test holds the snippets' names to the ones below).
(function () {
  'use strict';

  /* The names the native side registers and the prefixes it splits on. */
  var HANDLER = 'callbackHandler';
  var PREFIX = { complete: 'onComplete:', expired: 'onExpired:' };
  var HOSTED_HANDLER = 'WebViewSDK';
  var HOSTED_EVENT = {
    steps: 'truora.steps.completed',
    succeeded: 'truora.process.succeeded',
    failed: 'truora.process.failed'
  };

  var q = new URLSearchParams(location.search);
  var id = q.get('validation_id') || '';
  var lang = q.get('lang') === 'en' ? 'en' : 'es';
  var hosted = q.get('events') === 'hosted';
  var name = hosted ? HOSTED_HANDLER : HANDLER;

  /* The first bridge present, looked up when a message is sent (some appear after load). */
  function bridge() {
    var w = window;
    var ios = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers[name];
    if (ios && typeof ios.postMessage === 'function') return { kind: 'ios', post: function (m) { ios.postMessage(m); } };
    // Android's addJavascriptInterface(obj, name) and Flutter's JavaScriptChannel(name) both
    // put an object with postMessage(String) on window.
    var named = w[name];
    if (named && typeof named.postMessage === 'function') return { kind: 'android-or-flutter', post: function (m) { named.postMessage(m); } };
    var inapp = w.flutter_inappwebview;
    if (inapp && typeof inapp.callHandler === 'function') return { kind: 'flutter_inappwebview', post: function (m) { inapp.callHandler(name, m); } };
    var rn = w.ReactNativeWebView;
    if (rn && typeof rn.postMessage === 'function') return { kind: 'react-native', post: function (m) { rn.postMessage(m); } };
    if (w.parent && w.parent !== w) return { kind: 'iframe', post: function (m) { w.parent.postMessage(m, '*'); } };
    return null;
  }

  function send(message) {
    var b = bridge();
    if (b) b.post(message);
    else if (window.console) window.console.warn('[TruoraSDK mock] no native bridge for: ' + message);
  }

  var stepsSent = false;
  function report(kind, result) {
    if (!hosted) return send((kind === 'expired' ? PREFIX.expired : PREFIX.complete) + JSON.stringify(result));
    send((result.status === 'succeeded' ? HOSTED_EVENT.succeeded : HOSTED_EVENT.failed) + ',' + result.validationID);
  }

  document.documentElement.lang = lang;
  document.title = lang === 'en' ? 'Identity verification' : 'Verificación de identidad';
  var root = document.getElementById('app');
  if (!id) {
    root.textContent = 'This page needs ?validation_id=VLD… in its URL (docs/mobile.md).';
    return;
  }
  var journey = window.TruoraSDK.init({
    element_id: 'app', validation_id: id, lang: lang, device: 'phone',
    document_number: q.get('document_number') || '',
    on_complete: function (r) { report('complete', r); },
    on_expired: function (r) { report('expired', r); }
  });

  /* The hosted flow reports the end of the person's steps (the video is recorded) on its own. */
  if (hosted) {
    new MutationObserver(function () {
      var step = root.getAttribute('data-truora-step');
      if (!stepsSent && (step === 'uploading' || step === 'processing')) {
        stepsSent = true;
        send(HOSTED_EVENT.steps + ',' + id);
      }
    }).observe(root, { attributes: true, attributeFilter: ['data-truora-step'] });
  }

  /* The back button (Android's, when the app calls webView.goBack(); a swipe back on iOS) cancels
   * the journey like its "cancel" button; where cancelling is no longer possible it stays put. */
  history.pushState({ truora: 'journey' }, '');
  window.addEventListener('popstate', function () {
    if (journey && !journey.finished && !journey.cancel()) history.pushState({ truora: 'journey' }, '');
  });

  /* For a native close button: evaluateJavaScript("TruoraWebView.cancel()"). */
  window.TruoraWebView = {
    HANDLER: HANDLER, PREFIX: PREFIX, HOSTED_HANDLER: HOSTED_HANDLER, HOSTED_EVENT: HOSTED_EVENT,
    cancel: function () { return !!journey && journey.cancel(); },
    bridge: function () { var b = bridge(); return b ? b.kind : null; }
  };
})();
