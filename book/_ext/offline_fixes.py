"""Sphinx extension: small fixes so every page loads with no JavaScript errors, offline.

* With jupyter-book 1 the sphinx-thebe configuration script is registered twice; the second copy
  redeclares `const THEBE_JS_URL`, a SyntaxError on every chapter page. We keep the first copy of
  each identical script.
* The widget manager (@jupyter-widgets/html-manager) typesets widget labels through the MathJax 2
  API (`MathJax.Hub.Queue`), but the book uses MathJax 3. A shim maps that call onto MathJax 3's
  `typesetPromise`, both before MathJax has loaded (on its configuration object) and after.
"""

MATHJAX2_SHIM = """
(function () {
  function hub() {
    return { Queue: function (job) {
      var element = job && job[2];
      var mj = window.MathJax;
      if (mj && mj.typesetPromise) { mj.typesetPromise(element ? [element] : undefined).catch(function () {}); }
    } };
  }
  window.MathJax = window.MathJax || {};
  if (!window.MathJax.Hub) { window.MathJax.Hub = hub(); }
  var tries = 0;
  (function keep() {  // MathJax 3 replaces window.MathJax when it starts: add the shim again
    if (window.MathJax && !window.MathJax.Hub) { window.MathJax.Hub = hub(); }
    if (!(window.MathJax && window.MathJax.version) && tries++ < 400) { setTimeout(keep, 25); }
    else if (window.MathJax && !window.MathJax.Hub) { window.MathJax.Hub = hub(); }
  })();
})();
"""


def _dedupe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", None) or {}
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    # after the MathJax configuration script (priority 500), before MathJax and the widget manager load
    app.add_js_file(None, body=MATHJAX2_SHIM, priority=501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
