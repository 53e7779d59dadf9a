/* Parley chat widget: <script src="https://parley.example/widget.js" data-key="pk_..." async></script>
   Optional: data-api (default: this script's origin), data-language (en, de), data-customer-id,
   data-user-hash (HMAC identity verification), data-customer-name, data-customer-email.
   No dependencies; everything lives in a shadow root. See README "Put Parley on your site". */
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || !me.dataset.key || window.parleyWidget) return;
  var cfg = me.dataset, key = cfg.key;
  var api = (cfg.api || new URL(me.src, location.href).origin).replace(/\/+$/, '');

  var STR = {
    en: {
      open: 'Chat with us', title: 'Chat', close: 'Close chat', input: 'Your message',
      placeholder: 'Type your question…', send: 'Send', sources: 'Sources', you: 'You',
      bot: 'Assistant', agent: 'Agent', system: 'Notice', ask: 'Helpful?', yes: 'Yes', no: 'No', helpful: 'Helpful', unhelpful: 'Not helpful',
      thanks: 'Thanks for your feedback.', offer: 'Sorry that did not help. Would you like to talk to a person?',
      human: 'Talk to a person', handoff: 'Thanks! A person from our team will reply here.',
      waiting: 'Waiting for a person…', joined: 'A person from our team is here.', resolved: 'Conversation closed. Write to start again.',
      offline: 'Connection lost. Reconnecting…', error: 'Something went wrong. Please try again.',
      busy: 'Too many messages. Please wait a moment.', unavailable: 'Chat is not available on this site.', unread: 'new messages'
    },
    de: {
      open: 'Chatten Sie mit uns', title: 'Chat', close: 'Chat schließen', input: 'Ihre Nachricht',
      placeholder: 'Ihre Frage…', send: 'Senden', sources: 'Quellen', you: 'Sie',
      bot: 'Assistent', agent: 'Mitarbeiter', system: 'Hinweis', ask: 'Hilfreich?', yes: 'Ja', no: 'Nein', helpful: 'Hilfreich', unhelpful: 'Nicht hilfreich',
      thanks: 'Danke für Ihr Feedback.', offer: 'Schade, dass das nicht geholfen hat. Möchten Sie mit einer Person sprechen?',
      human: 'Mit einer Person sprechen', handoff: 'Danke! Eine Person aus unserem Team antwortet Ihnen hier.',
      waiting: 'Warten auf eine Person…', joined: 'Eine Person aus unserem Team ist jetzt da.', resolved: 'Gespräch beendet. Schreiben Sie, um neu zu beginnen.',
      offline: 'Verbindung unterbrochen. Neuer Versuch…', error: 'Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.',
      busy: 'Zu viele Nachrichten. Bitte warten Sie einen Moment.', unavailable: 'Der Chat ist auf dieser Seite nicht verfügbar.', unread: 'neue Nachrichten'
    }
  };
  function pickLang(l) { l = (l || '').slice(0, 2).toLowerCase(); return STR[l] ? l : ''; }
  var lang = pickLang(cfg.language) || pickLang(navigator.language) || 'en', t = STR[lang];

  // Visitor state survives reloads: the token binds this browser to its conversation.
  var storeKey = 'parley:' + key, saved = {};
  try { saved = JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { /* storage blocked */ }
  var token = saved.token || '', conv = saved.conv || '', cursor = '';
  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify({ token: token, conv: conv })); } catch (e) { /* ignore */ }
  }

  var host = document.createElement('div');
  host.setAttribute('data-parley-widget', '');
  var root = host.attachShadow({ mode: 'open' });
  root.innerHTML = '<style>' +
    ':host{all:initial;--pc:#0b5fff;font:15px/1.4 system-ui,sans-serif;color:#1a1a1a}' +
    '*{box-sizing:border-box;font:inherit}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    'button{cursor:pointer;border:0;border-radius:8px;padding:8px 12px;background:var(--pc);color:#fff}' +
    'button:focus-visible,textarea:focus-visible,a:focus-visible,.log:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}' +
    'button:disabled{opacity:.5;cursor:default}' +
    '.launch{position:fixed;right:16px;bottom:16px;z-index:2147483000;border-radius:24px;padding:12px 18px;box-shadow:0 2px 10px #0004}' +
    '.badge{display:inline-block;min-width:20px;margin-left:6px;border-radius:10px;background:#d00;padding:0 6px}' +
    '.panel{position:fixed;right:16px;bottom:76px;z-index:2147483000;width:370px;max-width:calc(100vw - 32px);height:540px;max-height:calc(100vh - 96px);' +
    'display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 4px 24px #0005;overflow:hidden}' +
    '.panel[hidden]{display:none}' +
    'header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--pc);color:#fff}' +
    'h2{flex:1;margin:0;font-weight:600}header button{background:transparent;font-size:20px;padding:0 8px}' +
    '.status{padding:4px 12px;background:#f3f5f8;color:#444;font-size:13px}.status:empty{display:none}' +
    '.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}' +
    '.m{max-width:85%;padding:8px 10px;border-radius:10px;background:#f0f2f5;white-space:pre-wrap;overflow-wrap:anywhere}' +
    '.customer{align-self:flex-end;background:var(--pc);color:#fff}.agent{background:#e6f4ea}' +
    '.system{align-self:center;background:none;color:#555;font-size:13px;text-align:center}' +
    '.who{display:block;font-size:12px;color:#555}.customer .who{color:#fffc}' +
    '.src{margin:6px 0 0;padding-left:18px;font-size:13px}.src a{color:#0645ad}' +
    '.fb{display:flex;align-items:center;gap:6px;margin-top:6px;font-size:13px;color:#555}.fb button{background:#fff;color:#1a1a1a;border:1px solid #ccc;padding:2px 8px}' +
    '.fb button[aria-pressed=true]{background:#1a1a1a;color:#fff}' +
    '.human{margin:0 12px 8px;background:#fff;color:var(--pc);border:1px solid var(--pc)}.human[hidden]{display:none}' +
    'form{display:flex;gap:8px;padding:8px 12px 12px;border-top:1px solid #e3e3e3}' +
    'textarea{flex:1;resize:none;border:1px solid #bbb;border-radius:8px;padding:8px;min-height:40px;max-height:120px}' +
    '</style>' +
    '<button class="launch" type="button" aria-expanded="false" aria-controls="p"><span class="lt"></span><span class="badge" hidden></span></button>' +
    '<section class="panel" id="p" role="dialog" aria-labelledby="h" hidden>' +
    '<header><h2 id="h"></h2><button class="x" type="button">×</button></header>' +
    '<div class="status" role="status" aria-live="polite"></div>' +
    '<div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"></div>' +
    '<button class="human" type="button" hidden></button>' +
    '<form><label class="sr" for="q"></label><textarea id="q" rows="1" maxlength="4000"></textarea><button type="submit"></button></form>' +
    '</section>';
  function $(s) { return root.querySelector(s); }
  var launch = $('.launch'), badge = $('.badge'), panel = $('.panel'), log = $('.log'), status = $('.status'),
    form = $('form'), input = $('textarea'), sendBtn = $('form button'), humanBtn = $('.human'), closeBtn = $('.x');

  var title = '';
  function label() {
    $('.lt').textContent = t.open;
    $('h2').textContent = title || t.title;
    closeBtn.setAttribute('aria-label', t.close);
    $('label').textContent = t.input;
    input.placeholder = t.placeholder;
    sendBtn.textContent = t.send;
    humanBtn.textContent = t.human;
  }
  label();

  var state = 'bot', unread = 0, started = null, disabled = false;
  function setStatus(s) { status.textContent = s || ''; }
  function stateText() {
    return { waiting: t.waiting, agent: t.joined, resolved: t.resolved }[state] || '';
  }
  function setState(s) {
    if (!s || s === state) return;
    state = s;
    setStatus(stateText());
    humanBtn.hidden = !conv || state !== 'bot';
  }

  function open(show) {
    panel.hidden = !show;
    launch.setAttribute('aria-expanded', String(show));
    if (show) {
      unread = 0; badge.hidden = true;
      start();
      input.focus();
    } else {
      launch.focus();
    }
  }
  launch.addEventListener('click', function () { open(panel.hidden); });
  closeBtn.addEventListener('click', function () { open(false); });
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') open(false); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  // HTTP: JSON in and out; errors carry the status and the API's code.
  function call(method, path, body) {
    var h = { 'Authorization': 'Bearer ' + key };
    if (token) h['X-Parley-Visitor'] = token;
    if (body) h['Content-Type'] = 'application/json';
    return fetch(api + path, { method: method, headers: h, body: body && JSON.stringify(body), mode: 'cors', credentials: 'omit' })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (r.ok) return j;
          var err = new Error((j.error && j.error.message) || r.statusText);
          err.status = r.status; err.code = j.error && j.error.code;
          throw err;
        });
      });
  }
  function failText(err) {
    if (err.status === 429) return t.busy;
    if (err.status === 403 || err.code === 'origin_not_allowed') return t.unavailable;
    return t.error;
  }

  // Session: resumes this browser's visitor token and open conversation.
  function session() {
    var body = { visitor_token: token };
    if (cfg.customerId) {
      body.customer = { id: cfg.customerId, name: cfg.customerName, email: cfg.customerEmail, language: cfg.language };
      body.user_hash = cfg.userHash;
    }
    return call('POST', '/v1/widget/session', body).then(function (s) {
      token = s.visitor_token;
      if (s.conversation_id !== undefined) conv = s.conversation_id || conv;
      persist();
      var st = s.settings || {};
      if (!cfg.language && st.languages && st.languages.indexOf(lang) < 0 && STR[st.languages[0]]) { lang = st.languages[0]; t = STR[lang]; }
      title = st.name || '';
      if (st.theme && /^#[0-9a-f]{3,8}$/i.test(st.theme.color || '')) host.style.setProperty('--pc', st.theme.color);
      label();
      if (st.greeting && !log.firstChild) add({ role: 'bot', text: st.greeting });
      humanBtn.hidden = !conv || state !== 'bot';
      return s;
    });
  }
  function start() {
    if (!started) {
      started = session().then(function () {
        if (conv) return history().then(stream);
      }).catch(function (err) {
        started = null;
        if (err.status === 403 || err.status === 401) disable();
        setStatus(failText(err));
      });
    }
    return started;
  }
  function disable() {
    disabled = true;
    input.disabled = sendBtn.disabled = true;
  }

  // Messages: each shown once, by id; the customer's own text is shown at once and matched later.
  var seen = {};
  function add(m) {
    if (m.id && seen[m.id]) return seen[m.id];
    if (m.id && m.role === 'customer') {
      var mine = log.querySelector('.customer:not([data-id])');
      if (mine && mine.getAttribute('data-text') === m.text) { mine.setAttribute('data-id', m.id); seen[m.id] = mine; return mine; }
    }
    var el = document.createElement('div');
    el.className = 'm ' + m.role;
    if (m.id) { el.setAttribute('data-id', m.id); seen[m.id] = el; } else if (m.role === 'customer') el.setAttribute('data-text', m.text);
    var who = document.createElement('span');
    who.className = m.role === 'customer' || m.role === 'system' ? 'who sr' : 'who';
    who.textContent = m.role === 'agent' ? (m.agent_name ? m.agent_name + ' · ' + t.agent : t.agent) : t[m.role] || m.role;
    el.appendChild(who);
    el.appendChild(document.createTextNode(m.text));
    var links = (m.sources || []).filter(function (s) { return /^https?:\/\//i.test(s.url || ''); });
    if (links.length) {
      var h = document.createElement('span');
      h.className = 'sr'; h.textContent = t.sources;
      var ul = document.createElement('ul');
      ul.className = 'src';
      links.forEach(function (s) {
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = s.url; a.target = '_blank'; a.rel = 'noopener noreferrer';
        a.textContent = (s.title || s.url) + (s.section ? ' – ' + s.section : '');
        li.appendChild(a); ul.appendChild(li);
      });
      el.appendChild(h); el.appendChild(ul);
    }
    // Feedback is asked for on knowledge answers (those with sources), not on small talk or notices.
    if (m.role === 'bot' && m.id && m.feedback !== false && (m.sources || []).length) el.appendChild(feedback(m.id));
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    if (panel.hidden && m.role !== 'customer') {
      unread++;
      badge.textContent = unread; badge.hidden = false;
      badge.setAttribute('aria-label', unread + ' ' + t.unread);
    }
    return el;
  }
  function feedback(id) {
    var box = document.createElement('div');
    box.className = 'fb';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', t.ask);
    box.appendChild(document.createTextNode(t.ask));
    [[true, t.yes, t.helpful], [false, t.no, t.unhelpful]].forEach(function (f) {
      var b = document.createElement('button');
      b.type = 'button'; b.textContent = f[1];
      b.setAttribute('aria-label', f[2]); b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', function () {
        box.querySelectorAll('button').forEach(function (x) { x.disabled = true; });
        b.setAttribute('aria-pressed', 'true');
        call('POST', '/v1/widget/conversations/' + enc(conv) + '/feedback', { message_id: id, helpful: f[0] }).then(function (r) {
          add({ role: 'system', text: r.handoff_offered ? t.offer : t.thanks });
          setState(r.state);
          if (r.handoff_offered) humanBtn.hidden = false;
        }, function (err) { setStatus(failText(err)); });
      });
      box.appendChild(b);
    });
    return box;
  }
  function enc(s) { return encodeURIComponent(s); }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || disabled) return;
    input.value = '';
    add({ role: 'customer', text: text });
    sendBtn.disabled = true;
    start().then(function () {
      if (disabled) return;
      var body = { text: text };
      if (conv) body.conversation_id = conv;
      return call('POST', '/v1/widget/messages', body).catch(function (err) {
        if (err.status !== 401 || err.code === 'origin_not_allowed') throw err;
        token = ''; // expired or unknown visitor token: a new session, then once more
        return session().then(function () { return call('POST', '/v1/widget/messages', body); });
      }).then(answered);
    }).catch(function (err) {
      add({ role: 'system', text: failText(err) });
    }).then(function () { sendBtn.disabled = disabled; });
  });
  function answered(r) {
    var fresh = r.conversation_id && r.conversation_id !== conv;
    if (r.conversation_id) { conv = r.conversation_id; persist(); }
    if (pickLang(r.language) && !cfg.language && r.language !== lang) { lang = pickLang(r.language); t = STR[lang]; label(); }
    if (r.answer) add({ id: r.message_id, role: 'bot', text: r.answer.text, sources: r.answer.sources });
    // The handoff notice is stored as the bot's message: the stream may bring it too, with the same id.
    if (r.escalation) { add({ id: r.message_id, role: 'bot', text: r.escalation.message || t.handoff }); setState(r.state || 'waiting'); }
    setState(r.state);
    humanBtn.hidden = !conv || state !== 'bot';
    if (fresh) stream();
  }
  humanBtn.addEventListener('click', function () {
    humanBtn.disabled = true;
    call('POST', '/v1/widget/conversations/' + enc(conv) + '/handoff', {}).then(answered, function (err) {
      setStatus(failText(err));
    }).then(function () { humanBtn.disabled = false; });
  });

  function take(m) {
    add(m);
    if (m.id) cursor = m.id;
  }
  // history fills in what was said before this page (or since the cursor).
  function history() {
    return call('GET', '/v1/widget/conversations/' + enc(conv) + '/messages' + (cursor ? '?after=' + enc(cursor) : '')).then(function (r) {
      (r.messages || []).forEach(function (m) { m.feedback = false; take(m); });
      setState(r.state);
    });
  }

  // Live replies over server-sent events; after a drop it reconnects with backoff from the cursor,
  // and at once when the browser comes back online. Failing repeatedly refreshes the visitor token.
  var es = null, retry = null, fails = 0;
  function stream() {
    if (!conv || disabled) return;
    clearTimeout(retry); retry = null;
    if (es) es.close();
    var q = '?key=' + enc(key) + '&token=' + enc(token) + (cursor ? '&after=' + enc(cursor) : '');
    var src = es = new EventSource(api + '/v1/widget/conversations/' + enc(conv) + '/events' + q);
    src.addEventListener('open', function () { fails = 0; setStatus(stateText()); });
    src.addEventListener('message', function (e) { take(JSON.parse(e.data)); });
    src.addEventListener('state', function (e) { setState(JSON.parse(e.data).state); });
    src.addEventListener('error', function () {
      if (es !== src) return;
      src.close(); es = null; fails++;
      setStatus(t.offline);
      var wait = Math.min(15000, 500 * Math.pow(2, Math.min(fails, 5)));
      retry = setTimeout(function () {
        (fails % 3 === 0 ? session() : Promise.resolve()).then(stream, function () { stream(); });
      }, wait);
    });
  }
  window.addEventListener('online', function () { if (conv && !es) stream(); });

  window.parleyWidget = { open: function () { open(true); }, close: function () { open(false); } };
  (document.body || document.documentElement).appendChild(host);
  if (token) start();
})();
