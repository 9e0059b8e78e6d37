#!/usr/bin/env bash
# Refreshes ui/vendor/lib/ from the exact versions pinned in package.json / package-lock.json.
# Needs npm only when refreshing; the app itself runs from the committed files in lib/ (no npm, no bundler).
# npm works in a temp dir so that no node_modules ends up inside ui/ (Tauri embeds all of ui/).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$work/" 2>/dev/null || cp "$here/package.json" "$work/"
(cd "$work" && if [ -f package-lock.json ]; then npm ci --ignore-scripts --no-audit --no-fund; else npm install --ignore-scripts --no-audit --no-fund; fi)
[ -f "$here/package-lock.json" ] || cp "$work/package-lock.json" "$here/"
nm="$work/node_modules"
lib="$here/lib"
rm -rf "$lib"
mkdir -p "$lib/fonts"
cp "$nm/markdown-it/dist/browser/markdown-it.umd.min.js" "$lib/markdown-it.min.js"
cp "$nm/markdown-it-texmath/texmath.js" "$lib/texmath.js"
cp "$nm/dompurify/dist/purify.min.js" "$lib/purify.min.js"
# highlight.js "common" build (the ~40 most used languages) and two themes.
cp "$nm/@highlightjs/cdn-assets/highlight.min.js" "$lib/highlight.min.js"
cp "$nm/@highlightjs/cdn-assets/styles/github.min.css" "$lib/hljs-light.min.css"
cp "$nm/@highlightjs/cdn-assets/styles/github-dark.min.css" "$lib/hljs-dark.min.css"
cp "$nm/katex/dist/katex.min.js" "$lib/katex.min.js"
# Chart.js (the ratings charts), the UMD build: one file, no bundler.
cp "$nm/chart.js/dist/chart.umd.min.js" "$lib/chart.umd.min.js"
# KaTeX fonts: woff2 only (every WebKitGTK we support reads it); the CSS lists woff2 first.
cp "$nm/katex/dist/fonts/"*.woff2 "$lib/fonts/"
sed -E 's/,url\(fonts\/[A-Za-z0-9_-]+\.(woff|ttf)\) format\("(woff|truetype)"\)//g' \
  "$nm/katex/dist/katex.min.css" > "$lib/katex.min.css"
for p in markdown-it markdown-it-texmath dompurify @highlightjs/cdn-assets katex chart.js; do
  printf '%s %s\n' "$p" "$(node -p "require('$nm/$p/package.json').version")"
done > "$lib/VERSIONS"
cat "$lib/VERSIONS"
du -sh "$lib"
