#!/usr/bin/env bash
# Build the page assets into app/static/govuk/ (ignored by git; made by `make setup`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=app/static/govuk
mkdir -p "$out"
node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
  --load-path=node_modules app/static/src/minutebook.scss "$out/minutebook.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$out/"
cp app/static/src/minutebook.js app/static/src/init.mjs app/static/src/agenda-dnd.mjs \
  app/static/src/favicon.svg "$out/"
echo "assets built in $out"
