// Parley console, analytics page: publish a gap's draft FAQ entry into a
// knowledge base (the upload API, one JSON record).
(function () {
  'use strict';
  var t = Parley.t;
  var forms = document.querySelectorAll('.draft-form');
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var status = form.querySelector('.draft-status');
      var button = form.querySelector('button[type="submit"]');
      var record = {
        question: form.elements.question.value.trim(),
        answer: form.elements.answer.value.trim()
      };
      if (form.elements.id.value.trim()) {
        record.id = form.elements.id.value.trim();
      }
      if (form.elements.language.value) {
        record.language = form.elements.language.value;
      }
      var kb = form.elements.kb;
      button.disabled = true;
      Parley.api('POST', '/knowledge-bases/' + encodeURIComponent(kb.value) + '/uploads', { records: [record] }).then(function (res) {
        var r = res.result || {};
        status.className = 'draft-status notice';
        status.textContent = t('js.published', kb.options[kb.selectedIndex].text, r.added || 0, r.updated || 0);
      }, function (err) {
        status.className = 'draft-status alert';
        status.textContent = t('js.error', err.message);
      }).then(function () { button.disabled = false; });
    });
  });
})();
