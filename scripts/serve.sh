#!/usr/bin/env bash
# Runs the gridgov server from the repository root: installs what it needs, builds it
# (release) and starts `gridgov serve` with the arguments given. Without --store it
# opens ./gridgov.gpkg, and creates the demo county there on the first run.
#
#   bash scripts/serve.sh                        on the default address
#   bash scripts/serve.sh --addr 0.0.0.0:8080    any `gridgov serve` option
#   bash scripts/serve.sh --help                 lists them
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --server
exec cargo run --release -p gridgov-cli --bin gridgov -- serve "$@"
