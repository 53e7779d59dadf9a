// Parley console: the agents' inbox. A live queue (server-sent events from
// /v1/escalations/events), and one escalation at a time: its conversation,
// its context packet, suggested replies (a streamed draft), replies and
// internal notes, translate, rewrite, summary, claim and resolve. Every
// call goes through Parley.api (console.js): same origin, session cookie,
// CSRF header. Text from the server is only ever set as textContent.
(function () {
  'use strict';
  var P = window.Parley;
  var root = document.getElementById('inbox');
  if (!P || !root) {
    return;
  }
  var t = P.t;
  var AGENT_KEY = 'parley.inbox.agent';
  var STREAM = '/app/api/v1/escalations/events';

  var state = {
    agent: localStorage.getItem(AGENT_KEY) || '',
    agents: [],
    team: '',
    view: 'unresolved',
    items: {}, // escalation id -> escalation as listed
    unread: {}, // escalation ids with messages not yet seen
    resolved: [], // the resolved view's rows (not live)
    nextResolved: '',
    current: '', // the open escalation's id
    esc: null, // its detail
    conv: null, // its conversation
    source: null,
    lost: 0, // the timer that reports a lost connection
    suggest: null, // the running suggestion stream's AbortController
    answered: null // the knowledge behind the text put in the reply box
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function clear(e) {
    while (e.firstChild) { e.removeChild(e.firstChild); }
  }

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? '' : d.toLocaleString(document.documentElement.lang || undefined, { dateStyle: 'short', timeStyle: 'short' });
  }

  function pct(x) { return Math.round((x || 0) * 100) + '%'; }

  // alert shows an error (or, with ok, a confirmation) above the inbox.
  function alert(msg, ok) {
    var a = $('inbox-alert');
    a.className = ok ? 'notice' : 'alert';
    a.textContent = msg;
    a.hidden = !msg;
  }

  function failed(err) {
    alert(t('js.error', err && err.message ? err.message : String(err)));
  }

  // busy disables a button while promise p runs.
  function busy(button, p) {
    button.disabled = true;
    return p.then(function (v) { button.disabled = false; return v; }, function (err) { button.disabled = false; throw err; });
  }

  function needAgent() {
    if (state.agent) { return true; }
    alert(t('js.inbox.need_agent'));
    $('me').focus();
    return false;
  }

  // ---- the agent and the filters ----

  function loadAgents() {
    return P.api('GET', '/agents').then(function (res) {
      state.agents = (res && res.agents) || [];
      var me = $('me');
      clear(me);
      me.appendChild(new Option(t('js.inbox.choose_agent'), ''));
      var teams = {};
      state.agents.forEach(function (a) {
        teams[a.team] = true;
        if (a.active || a.id === state.agent) {
          me.appendChild(new Option(a.name + ' (' + a.team + ')', a.id));
        }
      });
      if (!state.agents.some(function (a) { return a.id === state.agent; })) {
        state.agent = '';
      }
      me.value = state.agent;
      var team = $('team');
      Object.keys(teams).sort().forEach(function (name) { team.appendChild(new Option(name, name)); });
    });
  }

  // ---- the live queue ----

  function setLive(key) { $('live').textContent = t(key); }

  function connect() {
    if (state.source) { state.source.close(); }
    var es = new EventSource(STREAM + (state.team ? '?team=' + encodeURIComponent(state.team) : ''));
    state.source = es;
    es.addEventListener('queue', function (ev) {
      var q = JSON.parse(ev.data);
      state.items = {};
      (q.escalations || []).forEach(function (e) { state.items[e.id] = e; });
      setLive('js.inbox.live');
      renderQueue();
      if (state.current) { refresh(); }
    });
    es.addEventListener('escalation', function (ev) {
      var c = JSON.parse(ev.data);
      var e = c.escalation;
      state.items[e.id] = e;
      if (c.change === 'message' && e.id !== state.current) { state.unread[e.id] = true; }
      renderQueue();
      if (e.id === state.current) { refresh(); }
    });
    es.onopen = function () {
      clearTimeout(state.lost);
      setLive('js.inbox.live');
    };
    es.onerror = function () {
      // The server ends the stream every few minutes (to authenticate the
      // browser again), which reconnects within a second: say so only if
      // that takes longer.
      clearTimeout(state.lost);
      state.lost = setTimeout(function () { setLive('js.inbox.reconnecting'); }, 2000);
      if (es.readyState === EventSource.CLOSED) {
        // Refused (the session ended?): the API call signs in again on 401.
        P.api('GET', '/workspace').then(function () { setTimeout(connect, 2000); }, failed);
      }
    };
  }

  function visible() {
    if (state.view === 'resolved') { return state.resolved; }
    return Object.keys(state.items).map(function (id) { return state.items[id]; }).filter(function (e) {
      switch (state.view) {
        case 'open': return e.status === 'open';
        case 'mine': return e.status === 'claimed' && e.assignee === state.agent;
        default: return e.status !== 'resolved';
      }
    }).sort(function (a, b) { return a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0; });
  }

  function renderQueue() {
    var list = $('queue');
    var rows = visible();
    var focused = list.contains(document.activeElement) ? document.activeElement.dataset.id : '';
    clear(list);
    rows.forEach(function (e) {
      var li = el('li');
      var b = el('button', 'item');
      b.type = 'button';
      b.dataset.id = e.id;
      if (e.id === state.current) { b.setAttribute('aria-current', 'true'); }
      b.appendChild(el('span', 'q', e.context.question || t('js.inbox.no_question')));
      var meta = el('span', 'meta');
      meta.appendChild(el('span', 'badge status-' + e.status, t('js.inbox.status.' + e.status)));
      meta.appendChild(el('span', '', t('js.inbox.reason.' + e.reason)));
      meta.appendChild(el('span', '', e.team));
      if (e.assignee_name) { meta.appendChild(el('span', '', e.assignee_name)); }
      meta.appendChild(el('time', '', when(e.created_at)));
      if (state.unread[e.id]) { meta.appendChild(el('span', 'badge new', t('js.inbox.new'))); }
      b.appendChild(meta);
      b.addEventListener('click', function () { open(e.id); });
      li.appendChild(b);
      list.appendChild(li);
      if (e.id === focused) { b.focus(); }
    });
    $('queue-empty').hidden = rows.length > 0;
    $('more').hidden = !(state.view === 'resolved' && state.nextResolved);
    $('queue-count').textContent = t('js.inbox.count', rows.length);
  }

  function loadResolved(more) {
    var q = '?status=resolved&limit=50' + (state.team ? '&team=' + encodeURIComponent(state.team) : '') +
      (more && state.nextResolved ? '&after=' + encodeURIComponent(state.nextResolved) : '');
    return P.api('GET', '/escalations' + q).then(function (res) {
      state.resolved = (more ? state.resolved : []).concat(res.escalations || []);
      state.nextResolved = res.next_after || '';
      renderQueue();
    }, failed);
  }

  // ---- one escalation ----

  function open(id) {
    if (state.suggest) { state.suggest.abort(); }
    var fresh = id !== state.current;
    state.current = id;
    delete state.unread[id];
    history.replaceState(null, '', '#' + id);
    root.dataset.view = 'detail';
    $('detail').hidden = false;
    renderQueue();
    return refresh(fresh).then(function () {
      if (fresh) { $('detail-h').focus(); }
    });
  }

  function back() {
    root.dataset.view = 'list';
    var b = document.querySelector('#queue button[data-id="' + state.current + '"]');
    if (b) { b.focus(); }
  }

  // refresh reads the open escalation and its conversation again; fresh
  // also resets what belongs to another escalation (packet, suggestions,
  // composer, resolve form).
  function refresh(fresh) {
    var id = state.current;
    return P.api('GET', '/escalations/' + id).then(function (esc) {
      return P.api('GET', '/conversations/' + esc.conversation_id).then(function (conv) {
        if (id !== state.current) { return; }
        state.esc = esc;
        state.conv = conv;
        renderFacts(esc, conv);
        renderTranscript(conv);
        if (fresh) {
          renderPacket(esc);
          resetComposer(conv);
        }
      });
    }).catch(failed);
  }

  function fact(dl, key, value) {
    if (value === undefined || value === null || value === '') { return; }
    dl.appendChild(el('dt', '', t(key)));
    dl.appendChild(el('dd', '', value));
  }

  function customerName(c) {
    return c.name || c.email || c.id || t('js.inbox.customer');
  }

  function renderFacts(esc, conv) {
    $('detail-h').textContent = customerName(esc.context.customer || {}) + ': ' + (esc.context.question || '');
    var dl = $('facts');
    clear(dl);
    fact(dl, 'js.inbox.f.status', t('js.inbox.status.' + esc.status));
    fact(dl, 'js.inbox.f.team', esc.team);
    fact(dl, 'js.inbox.f.assignee', esc.assignee_name || t('js.inbox.nobody'));
    fact(dl, 'js.inbox.f.reason', t('js.inbox.reason.' + esc.reason));
    fact(dl, 'js.inbox.f.language', conv.language || esc.context.language);
    fact(dl, 'js.inbox.f.customer', [esc.context.customer.name, esc.context.customer.email].filter(Boolean).join(', '));
    fact(dl, 'js.inbox.f.created', when(esc.created_at));
    var mine = esc.status === 'claimed' && esc.assignee === state.agent;
    $('claim').hidden = esc.status !== 'open';
    $('resolve-form').hidden = esc.status === 'resolved';
    $('composer').hidden = esc.status === 'resolved' || (esc.status === 'claimed' && !mine);
    $('held').hidden = !(esc.status === 'claimed' && !mine);
    $('held').textContent = t('js.inbox.held', esc.assignee_name || '');
  }

  function roleName(m, conv) {
    var meta = m.meta || {};
    switch (m.role) {
      case 'customer': return customerName(conv.customer || {});
      case 'agent': return meta.agent_name || t('js.inbox.role.agent');
      case 'bot': return t('js.inbox.role.bot');
      default: return t('js.inbox.role.system');
    }
  }

  function renderTranscript(conv) {
    var ol = $('transcript');
    clear(ol);
    (conv.messages || []).forEach(function (m) {
      var li = el('li', 'msg role-' + m.role + (m.internal ? ' internal' : ''));
      var head = el('div', 'head');
      head.appendChild(el('strong', '', roleName(m, conv)));
      if (m.internal) { head.appendChild(el('span', 'badge note', t('js.inbox.internal'))); }
      head.appendChild(el('time', '', when(m.created_at)));
      li.appendChild(head);
      li.appendChild(el('p', 'text', m.text));
      ol.appendChild(li);
    });
  }

  function sourceList(sources) {
    var ul = el('ul', 'sources');
    (sources || []).forEach(function (s) {
      var li = el('li');
      var name = s.title || s.external_id || ('#' + s.id);
      if (s.section) { name += ' › ' + s.section; }
      if (s.url && /^https?:\/\//.test(s.url)) {
        var a = el('a', '', name);
        a.href = s.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(name));
      }
      ul.appendChild(li);
    });
    return ul;
  }

  // useButton puts text in the reply box; answered is the knowledge it
  // comes from, named with the reply (answered_by) so that resolving
  // without saying credits it.
  function useButton(text, answered) {
    var b = el('button', 'use', t('js.inbox.use'));
    b.type = 'button';
    b.addEventListener('click', function () {
      var r = $('reply');
      r.value = text.replace(/\s*\[source:[^\]]*\]/g, '');
      state.answered = answered || null;
      r.focus();
    });
    return b;
  }

  function candidates(esc) {
    var c = esc.context.candidates;
    return Array.isArray(c) ? c : [];
  }

  function renderPacket(esc) {
    var ctx = esc.context;
    $('explain').textContent = ctx.explain || '';
    $('confidence').textContent = t('js.inbox.confidence', pct(ctx.confidence));
    var draft = $('packet-draft');
    clear(draft);
    if (ctx.draft) {
      draft.appendChild(el('h4', '', t('js.inbox.draft')));
      draft.appendChild(el('blockquote', '', ctx.draft));
      var top = candidates(esc)[0];
      draft.appendChild(useButton(ctx.draft, top ? { group: top.group } : null));
    }
    var ol = $('candidates');
    clear(ol);
    candidates(esc).forEach(function (c) {
      var li = el('li', 'candidate');
      li.appendChild(el('p', 'text', c.answer));
      li.appendChild(el('p', 'help', t('js.inbox.scores', pct(c.score), (c.similarity || 0).toFixed(2)) + (c.intent ? ' · ' + c.intent : '')));
      li.appendChild(sourceList(c.sources));
      li.appendChild(useButton(c.answer, { group: c.group }));
      ol.appendChild(li);
    });
    $('no-candidates').hidden = candidates(esc).length > 0;
    renderAnswered(esc);
    clear($('suggestions'));
    $('suggest-note').hidden = true;
    $('draft-live').hidden = true;
    $('summary').hidden = true;
  }

  // renderAnswered offers the candidates as what answered the customer,
  // "none of this knowledge", or saying nothing (the default).
  function renderAnswered(esc) {
    var box = $('answered');
    clear(box);
    function choice(value, label, checked) {
      var id = 'answered-' + box.children.length;
      var row = el('div', 'choice');
      var input = el('input');
      input.type = 'radio';
      input.name = 'answered_by';
      input.id = id;
      input.value = value;
      input.checked = !!checked;
      var l = el('label', '', label);
      l.htmlFor = id;
      row.appendChild(input);
      row.appendChild(l);
      box.appendChild(row);
    }
    choice('', t('js.inbox.answered.unsaid'), true);
    candidates(esc).forEach(function (c) {
      var s = (c.sources || [])[0] || {};
      var label = (s.title || s.external_id || c.group) + ': ' + (c.answer || '').slice(0, 80);
      choice(c.group, label, false);
    });
    choice('none', t('js.inbox.answered.none'), false);
  }

  function resetComposer(conv) {
    $('reply').value = '';
    $('internal').checked = false;
    $('final').value = '';
    state.answered = null;
    var lang = $('tr-lang');
    var code = (conv.language || '').split('-')[0];
    if (code && !Array.prototype.some.call(lang.options, function (o) { return o.value === code; })) {
      lang.appendChild(new Option(code, code));
    }
    if (code) { lang.value = code; }
  }

  // ---- actions ----

  function claim() {
    if (!needAgent()) { return; }
    busy($('claim'), P.api('POST', '/escalations/' + state.current + '/claim', { agent_id: state.agent }))
      .then(function () { alert(''); return refresh(); }, failed);
  }

  function send(ev) {
    ev.preventDefault();
    if (!needAgent()) { return; }
    var text = $('reply').value.trim();
    if (!text) { $('reply').focus(); return; }
    var internal = $('internal').checked;
    var body = { agent_id: state.agent, text: text, internal: internal };
    if (!internal && state.answered) { body.answered_by = state.answered; }
    busy($('send'), P.api('POST', '/conversations/' + state.esc.conversation_id + '/messages', body))
      .then(function () {
        $('reply').value = '';
        $('internal').checked = false;
        if (!internal) { state.answered = null; }
        alert(t(internal ? 'js.inbox.noted' : 'js.inbox.sent'), true);
        return refresh();
      }, failed);
  }

  function translate() {
    var text = $('reply').value.trim();
    if (!text) { $('reply').focus(); return; }
    busy($('translate'), P.api('POST', '/translate', { text: text, target_language: $('tr-lang').value }))
      .then(function (res) { $('reply').value = res.text; alert(''); }, failed);
  }

  function rewrite() {
    var text = $('reply').value.trim();
    if (!text) { $('reply').focus(); return; }
    busy($('rewrite'), P.api('POST', '/rewrite', { text: text, action: $('rw-action').value }))
      .then(function (res) { $('reply').value = res.text; alert(''); }, failed);
  }

  function summary() {
    busy($('summary-btn'), P.api('POST', '/conversations/' + state.esc.conversation_id + '/summary', {}))
      .then(function (res) {
        var box = $('summary');
        box.textContent = res.summary;
        box.hidden = false;
      }, failed);
  }

  function resolve(ev) {
    ev.preventDefault();
    if (!needAgent()) { return; }
    var body = { agent_id: state.agent };
    var reply = $('final').value.trim();
    if (reply) { body.reply = reply; }
    var picked = document.querySelector('input[name="answered_by"]:checked');
    var value = picked ? picked.value : '';
    if (value === 'none') {
      body.answered_by = 'none';
    } else if (value) {
      body.answered_by = { group: value };
    }
    busy($('resolve'), P.api('POST', '/escalations/' + state.current + '/resolve', body))
      .then(function () { alert(t('js.inbox.resolved'), true); return refresh(); }, failed);
  }

  // ---- suggestions: a POST answered with server-sent events ----

  // readEvents calls onEvent(name, data) for each event of a response
  // body in the text/event-stream format.
  function readEvents(body, onEvent) {
    var reader = body.getReader();
    var decoder = new TextDecoder();
    var buf = '';
    function dispatch(block) {
      var name = 'message';
      var data = [];
      block.split('\n').forEach(function (line) {
        var i = line.indexOf(':');
        if (i <= 0) { return; }
        var field = line.slice(0, i);
        var value = line.slice(i + 1);
        if (value.charAt(0) === ' ') { value = value.slice(1); }
        if (field === 'event') { name = value; }
        if (field === 'data') { data.push(value); }
      });
      if (data.length) { onEvent(name, JSON.parse(data.join('\n'))); }
    }
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) {
          if (buf.trim()) { dispatch(buf); }
          return;
        }
        buf += decoder.decode(r.value, { stream: true }).replace(/\r\n?/g, '\n');
        var i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
        return pump();
      });
    }
    return pump();
  }

  function renderSuggestions(res) {
    var ol = $('suggestions');
    clear(ol);
    (res.suggestions || []).forEach(function (s) {
      var li = el('li', 'suggestion kind-' + s.kind);
      li.appendChild(el('p', 'help', t('js.inbox.kind.' + s.kind) + ' · ' + pct(s.confidence)));
      li.appendChild(el('p', 'text', s.text));
      li.appendChild(sourceList(s.sources));
      var src = (s.sources || [])[0];
      li.appendChild(useButton(s.text, src ? { source_id: src.id } : null));
      ol.appendChild(li);
    });
    if (!(res.suggestions || []).length) { note(t('js.inbox.suggest.none')); }
  }

  function note(msg) {
    var n = $('suggest-note');
    n.textContent = msg;
    n.hidden = !msg;
  }

  function suggest() {
    if (state.suggest) { state.suggest.abort(); }
    var ctl = new AbortController();
    state.suggest = ctl;
    var live = $('draft-live');
    var draftText = $('draft-text');
    var text = '';
    clear($('suggestions'));
    note('');
    draftText.textContent = '';
    live.hidden = true;
    var button = $('suggest');
    var run = fetch('/app/api/v1/suggestions?stream=true', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'text/event-stream', 'X-CSRF-Token': P.csrf },
      body: JSON.stringify({ conversation_id: state.esc.conversation_id }),
      signal: ctl.signal
    }).then(function (res) {
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (b) {
          var e = b.error || {};
          throw P.APIError(res.status, e.code, e.message || res.statusText);
        });
      }
      return readEvents(res.body, function (name, data) {
        switch (name) {
          case 'knowledge':
            renderSuggestions(data);
            break;
          case 'delta':
            text += data.text;
            draftText.textContent = text.replace(/\s*\[source:[^\]]*\]/g, '');
            live.hidden = false;
            break;
          case 'retract':
            // The streamed draft is not to be used: take it away.
            text = '';
            draftText.textContent = '';
            live.hidden = true;
            note(t('js.inbox.suggest.retracted', data.reason || data.status));
            break;
          case 'error':
            note(t('js.inbox.suggest.error', data.message));
            break;
          case 'done':
            live.hidden = true;
            renderSuggestions(data);
            break;
        }
      });
    });
    busy(button, run).catch(function (err) {
      if (err.name !== 'AbortError') { failed(err); }
    });
  }

  // ---- wiring ----

  $('me').addEventListener('change', function () {
    state.agent = this.value;
    localStorage.setItem(AGENT_KEY, state.agent);
    renderQueue();
    if (state.esc) { renderFacts(state.esc, state.conv); }
  });
  $('team').addEventListener('change', function () {
    state.team = this.value;
    connect();
    if (state.view === 'resolved') { loadResolved(false); }
  });
  $('view').addEventListener('change', function () {
    state.view = this.value;
    if (state.view === 'resolved') { loadResolved(false); } else { renderQueue(); }
  });
  $('more').addEventListener('click', function () { loadResolved(true); });
  $('back').addEventListener('click', back);
  $('claim').addEventListener('click', claim);
  $('composer').addEventListener('submit', send);
  $('translate').addEventListener('click', translate);
  $('rewrite').addEventListener('click', rewrite);
  $('summary-btn').addEventListener('click', summary);
  $('suggest').addEventListener('click', suggest);
  $('resolve-form').addEventListener('submit', resolve);
  $('reply').addEventListener('keydown', function (ev) {
    // Ctrl+Enter (or Cmd+Enter) sends.
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { $('composer').requestSubmit(); }
  });

  root.dataset.view = 'list';
  loadAgents().catch(failed).then(function () {
    connect();
    var id = location.hash.slice(1);
    if (/^[0-9a-f-]{36}$/i.test(id)) { open(id); }
  });
})();
