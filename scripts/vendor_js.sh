#!/usr/bin/env bash
# Vendor the JavaScript the rendered book needs (MathJax 3, the Jupyter widget
# manager and RequireJS) from the npm registry into _offline/static, so math and
# widgets render with no network. Versions are pinned in _offline/package-lock.json.
# Idempotent: does nothing when _offline/static is complete.
set -euo pipefail
cd "$(dirname "$0")/../_offline"
STATIC=static
if [ -f "$STATIC/mathjax/tex-chtml.js" ] && [ -f "$STATIC/widgets/embed-amd.js" ] && [ -f "$STATIC/widgets/require.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed once to vendor MathJax and the widget JavaScript (apt-get install npm, or install Node.js)." >&2
  exit 1
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
rm -rf "$STATIC.partial" && mkdir -p "$STATIC.partial/widgets"
cp -r node_modules/mathjax/es5 "$STATIC.partial/mathjax"
cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js "$STATIC.partial/widgets/embed-amd.js"
cp node_modules/requirejs/require.js "$STATIC.partial/widgets/require.js"
rm -rf "$STATIC" && mv "$STATIC.partial" "$STATIC"
rm -rf node_modules  # 250 MB of build-time dependencies; only the copies above are used
echo "vendored offline JS into _offline/$STATIC ($(du -sh "$STATIC" | cut -f1))"
