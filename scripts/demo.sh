#!/usr/bin/env bash
# make demo: alertd end to end on this machine. It starts a real Prometheus
# scraping a demo target and a real Alertmanager, runs `alertd run` with
# examples/rules/demo.yml, heats a room up and cools it down, and shows the
# alert go pending, firing, into Alertmanager (via amtool) and resolved.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in prometheus prometheus-alertmanager amtool; do
  if ! command -v "$b" >/dev/null; then
    echo "demo: $b is missing; run: make deps" >&2
    exit 1
  fi
done
go build -o bin/alertd ./cmd/alertd
exec go run ./scripts/demo -alertd bin/alertd -rules examples/rules/demo.yml "$@"
