// Parley console, knowledge pages: create and delete knowledge bases,
// upload files (with a dry-run preview before pruning, and progress of
// background jobs), delete sources. Pages are rendered by the server; this
// script only sends changes through Parley.api.
(function () {
  'use strict';
  var t = Parley.t;

  function $(id) { return document.getElementById(id); }

  function say(el, text, isError) {
    el.textContent = text;
    el.className = isError ? 'alert' : (text ? 'notice' : '');
  }

  function fail(el) {
    return function (err) { say(el, t('js.error', err.message), true); };
  }

  // twoStep makes a destructive button ask for a second click.
  function twoStep(button, action) {
    var label = button.textContent;
    var armed = false;
    button.addEventListener('click', function () {
      if (!armed) {
        armed = true;
        button.textContent = button.dataset.confirm;
        setTimeout(function () { armed = false; button.textContent = label; }, 5000);
        return;
      }
      button.disabled = true;
      action().catch(function (err) {
        button.disabled = false;
        armed = false;
        button.textContent = label;
        throw err;
      });
    });
  }

  // The knowledge base list.
  var create = $('create-kb');
  if (create) {
    create.addEventListener('submit', function (e) {
      e.preventDefault();
      var status = $('create-status');
      Parley.api('POST', '/knowledge-bases', { name: $('kb-name').value.trim() }).then(function (kb) {
        say(status, t('js.created'));
        location.assign('/app/knowledge/' + encodeURIComponent(kb.id));
      }, fail(status));
    });
  }

  var box = $('upload');
  if (!box) {
    return;
  }
  var kb = box.dataset.kb;
  var kbPath = '/knowledge-bases/' + encodeURIComponent(kb);

  // The website a knowledge base is synced from: preview a sync (a dry
  // run: the server crawls and writes nothing), or queue one.
  var website = $('website');
  if (website) {
    var syncResult = $('sync-result');
    var pageList = function (id, head, urls, total) {
      if (!total) {
        return;
      }
      var d = document.createElement('details');
      var s = document.createElement('summary');
      s.textContent = t(head, total);
      d.appendChild(s);
      var list = document.createElement('ul');
      list.id = id;
      urls.slice(0, 50).forEach(function (u) {
        var li = document.createElement('li');
        li.textContent = u;
        list.appendChild(li);
      });
      if (total > 50) {
        var more = document.createElement('li');
        more.textContent = t('js.preview.more', total - 50);
        list.appendChild(more);
      }
      d.appendChild(list);
      syncResult.appendChild(d);
    };
    $('sync-preview').addEventListener('click', function () {
      var button = this;
      button.disabled = true;
      say(syncResult, t('js.sync.crawling'));
      Parley.api('POST', kbPath + '/sync?dry_run=true').then(function (p) {
        button.disabled = false;
        syncResult.className = '';
        syncResult.innerHTML = '';
        var summary = document.createElement('p');
        summary.className = 'notice';
        summary.id = 'sync-summary';
        summary.textContent = t('js.sync.preview', p.added, p.changed, p.removed, p.unchanged) +
          (p.complete ? '' : ' ' + t('js.sync.incomplete'));
        syncResult.appendChild(summary);
        pageList('sync-added', 'js.sync.added', p.pages.added, p.added);
        pageList('sync-changed', 'js.sync.changed', p.pages.changed, p.changed);
        pageList('sync-removed', 'js.sync.removed', p.pages.removed, p.removed);
        pageList('sync-unchanged', 'js.sync.unchanged', p.pages.unchanged, p.unchanged);
      }, function (err) { button.disabled = false; fail(syncResult)(err); });
    });
    $('sync-now').addEventListener('click', function () {
      var button = this;
      button.disabled = true;
      Parley.api('POST', kbPath + '/sync').then(function () {
        button.disabled = false;
        say(syncResult, t('js.sync.queued'));
      }, function (err) { button.disabled = false; fail(syncResult)(err); });
    });
  }
  var result = $('upload-result');
  var progress = $('upload-progress');
  var bar = $('progress-bar');
  var barLabel = $('progress-label');
  var form = $('upload-form');

  function showProgress(label, value, max) {
    progress.hidden = false;
    barLabel.textContent = label;
    if (max > 0) {
      bar.max = max;
      bar.value = value;
    } else {
      bar.removeAttribute('value'); // indeterminate
    }
  }

  function formData(dryRun) {
    var files = $('files').files;
    var fd = new FormData();
    for (var i = 0; i < files.length; i++) {
      fd.append('file', files[i], files[i].name);
    }
    if ($('kind').value) {
      fd.append('kind', $('kind').value);
    }
    fd.append('prune', $('prune').checked ? 'true' : 'false');
    fd.append('dry_run', dryRun ? 'true' : 'false');
    return fd;
  }

  function counts(r) {
    return [r.added || 0, r.updated || 0, r.unchanged || 0, r.pruned || 0];
  }

  function showResult(r, skipped) {
    progress.hidden = true;
    result.innerHTML = '';
    var p = document.createElement('p');
    p.className = 'notice';
    p.textContent = t.apply(null, ['js.result'].concat(counts(r), [r.embedded || 0]));
    result.appendChild(p);
    showSkipped(skipped);
  }

  function showSkipped(skipped) {
    if (skipped && skipped.length) {
      var s = document.createElement('p');
      s.className = 'help';
      s.textContent = t('js.skipped', skipped.map(function (x) { return x.path + ': ' + x.reason; }).join('; '));
      result.appendChild(s);
    }
  }

  // refreshSources replaces the sources list with the server's current one.
  function refreshSources() {
    return fetch(location.pathname + location.search, { credentials: 'same-origin' }).then(function (res) {
      return res.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var fresh = doc.getElementById('sources');
      var counts = doc.querySelector('main h1 + p');
      if (fresh) {
        $('sources').replaceWith(fresh);
        wireSources();
      }
      var here = document.querySelector('main h1 + p');
      if (counts && here) {
        here.textContent = counts.textContent;
      }
    });
  }

  function pollJob(job) {
    return new Promise(function (resolve, reject) {
      function tick() {
        Parley.api('GET', kbPath + '/jobs/' + encodeURIComponent(job.id)).then(function (j) {
          if (j.state === 'succeeded') {
            showProgress(t('js.job', j.id, j.to_write, j.to_write), 1, 1);
            resolve(j.result || j.planned);
          } else if (j.state === 'failed' || j.state === 'cancelled') {
            reject(new Error(t('js.job.failed', j.error || j.state)));
          } else {
            if (j.state === 'running') {
              showProgress(t('js.job', j.id, j.written, j.to_write), j.written, j.to_write);
            } else {
              showProgress(t('js.job.queued'), 0, 0);
            }
            setTimeout(tick, 500);
          }
        }, reject);
      }
      tick();
    });
  }

  function send(dryRun) {
    if (!$('files').files.length) {
      say(result, t('js.choose_files'), true);
      return Promise.resolve();
    }
    say(result, '');
    showProgress(t('js.uploading', 0), 0, 100);
    return Parley.upload(kbPath + '/uploads', formData(dryRun), function (sent, total) {
      var pct = Math.round(sent * 100 / total);
      showProgress(pct < 100 ? t('js.uploading', pct) : t('js.planning'), pct < 100 ? pct : 0, pct < 100 ? 100 : 0);
    }).then(function (res) {
      if (res.status === 202) {
        return pollJob(res.data.job).then(function (r) { return { result: r, skipped: res.data.skipped }; });
      }
      return { result: res.data.result, skipped: res.data.skipped };
    });
  }

  function preview() {
    return send(true).then(function (out) {
      if (!out) {
        return null;
      }
      progress.hidden = true;
      var r = out.result;
      result.innerHTML = '';
      var p = document.createElement('p');
      p.className = 'notice';
      p.textContent = t.apply(null, ['js.preview'].concat(counts(r)));
      result.appendChild(p);
      var ids = r.pruned_ids || [];
      if (ids.length) {
        var head = document.createElement('p');
        head.textContent = t('js.preview.deletes');
        var list = document.createElement('ul');
        list.id = 'would-delete';
        ids.slice(0, 50).forEach(function (id) {
          var li = document.createElement('li');
          li.textContent = id;
          list.appendChild(li);
        });
        if (r.pruned > 50) {
          var more = document.createElement('li');
          more.textContent = t('js.preview.more', r.pruned - 50);
          list.appendChild(more);
        }
        result.appendChild(head);
        result.appendChild(list);
      }
      showSkipped(out.skipped);
      return r;
    });
  }

  function upload() {
    return send(false).then(function (out) {
      if (!out) {
        return;
      }
      showResult(out.result, out.skipped);
      form.reset();
      return refreshSources();
    });
  }

  $('preview').addEventListener('click', function () {
    preview().catch(fail(result));
  });

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var submit = $('upload-submit');
    submit.disabled = true;
    var done = function () { submit.disabled = false; };
    if (!$('prune').checked) {
      upload().then(done, function (err) { done(); progress.hidden = true; fail(result)(err); });
      return;
    }
    // Pruning deletes: show what would go first, and upload only when confirmed.
    preview().then(function (r) {
      done();
      if (!r) {
        return;
      }
      var confirm = document.createElement('button');
      confirm.type = 'button';
      confirm.className = 'danger';
      confirm.id = 'confirm-prune';
      confirm.textContent = t('js.confirm_prune', r.pruned || 0);
      confirm.addEventListener('click', function () {
        confirm.disabled = true;
        upload().catch(function (err) { progress.hidden = true; fail(result)(err); });
      });
      result.appendChild(confirm);
      confirm.focus();
    }, function (err) { done(); progress.hidden = true; fail(result)(err); });
  });

  function wireSources() {
    var buttons = document.querySelectorAll('.delete-source');
    Array.prototype.forEach.call(buttons, function (b) {
      twoStep(b, function () {
        return Parley.api('DELETE', kbPath + '/sources/' + encodeURIComponent(b.dataset.source) + '?by=id').then(function () {
          say(result, t('js.deleted'));
          return refreshSources();
        }, function (err) { fail(result)(err); throw err; });
      });
    });
  }
  wireSources();

  twoStep($('delete-kb'), function () {
    return Parley.api('DELETE', kbPath).then(function () {
      location.assign('/app/knowledge');
    }, function (err) { fail(result)(err); throw err; });
  });
})();
