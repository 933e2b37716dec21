// Phone handoff page (/journey/{validation_id}): continues the journey the desktop SDK started.
(function () {
  var id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
  var lang = new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'es';
  window.TruoraSDK.init({ element_id: 'app', validation_id: id, lang: lang, device: 'phone' });
})();
