// Phone handoff page (/journey/{validation_id}?lang=es|en): continues the journey the desktop
// SDK started, in the language the desktop used (the QR code and the link carry `lang`).
(function () {
  var id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
  var lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'es';
  var title = lang === 'en' ? 'Identity verification' : 'Verificación de identidad';
  document.documentElement.lang = lang;
  document.title = title + ' · TruIdentidad (mock)';
  document.getElementById('journey-title').textContent = title;
  window.TruoraSDK.init({ element_id: 'app', validation_id: id, lang: lang, device: 'phone' });
})();
