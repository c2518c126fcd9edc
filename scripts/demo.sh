#!/usr/bin/env bash
# make demo: alertd end to end on this machine. It builds bin/alertd, then
# runs scripts/demo, which serves a scrape target, starts a real Prometheus
# (Debian's package; make deps installs it) and `alertd run` with
# examples/rules/demo.yml, examples/templates and two local receivers it
# runs itself (a console webhook sink and a mail catcher), and shows an alert
# go pending, firing, notified and resolved. Ctrl-C stops everything.
# Arguments go to the demo program, e.g. scripts/demo.sh -once.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null && [ ! -x /usr/bin/prometheus ]; then
  echo "demo: prometheus is missing; run: make deps (it installs Debian's prometheus package)" >&2
  exit 1
fi
go build -o bin/alertd ./cmd/alertd
exec go run ./scripts/demo -alertd bin/alertd -rules examples/rules/demo.yml -templates 'examples/templates/*.tmpl' "$@"
