// Parley console: what every page shares. Pages add their own scripts and
// call the API through Parley.api (same origin, session cookie, CSRF header).
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : '';
  var messages = {};
  var el = document.getElementById('parley-messages');
  if (el) {
    try { messages = JSON.parse(el.textContent) || {}; } catch (e) { messages = {}; }
  }

  // t returns the message key in the page's language, with %s and %d
  // replaced by the further arguments in order (%% is %). Keys start
  // with "js.".
  function t(key) {
    var args = Array.prototype.slice.call(arguments, 1);
    var s = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    return s.replace(/%([sd%])/g, function (m, c) {
      if (c === '%') { return '%'; }
      return args.length ? String(args.shift()) : '';
    });
  }

  // APIError is a failed API call: the JSON error's code and message and
  // the HTTP status.
  function APIError(status, code, message) {
    var e = new Error(message);
    e.name = 'APIError';
    e.status = status;
    e.code = code;
    return e;
  }

  function signIn() {
    location.assign('/app/login?next=' + encodeURIComponent(location.pathname + location.search));
  }

  // api calls /app/api/v1 + path (the /v1 API, as the signed-in key) and
  // resolves to the decoded JSON (null for an empty body). body may be an
  // object (sent as JSON) or FormData. A 401 sends the browser to sign in.
  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf } };
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('/app/api/v1' + path, opts).then(function (res) {
      return res.text().then(function (text) {
        return settle(res.status, res.statusText, text).data;
      });
    });
  }

  // settle decodes a response: {status, data} if it succeeded; else it
  // throws an APIError (and sends the browser to sign in on 401).
  function settle(status, statusText, text) {
    var data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (status === 401) {
      signIn();
    }
    if (status < 200 || status > 299) {
      var err = data && data.error ? data.error : { code: 'http_' + status, message: statusText || String(status) };
      throw APIError(status, err.code, err.message);
    }
    return { status: status, data: data };
  }

  // upload posts FormData to /app/api/v1 + path, calling onProgress(sent,
  // total) as the body goes out (fetch cannot report that); it resolves to
  // {status, data}.
  function upload(path, form, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/app/api/v1' + path);
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      if (onProgress) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) { onProgress(e.loaded, e.total); } };
      }
      xhr.onload = function () {
        try { resolve(settle(xhr.status, xhr.statusText, xhr.responseText)); } catch (e) { reject(e); }
      };
      xhr.onerror = function () { reject(APIError(0, 'network', t('js.error', 'network'))); };
      xhr.send(form);
    });
  }

  window.Parley = { api: api, upload: upload, t: t, csrf: csrf, APIError: APIError };
})();
