#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is missing
# (scripts/setup.sh), starts a throwaway PostGIS (scripts/pg.sh), then runs
#   cargo fmt --check, cargo clippy -D warnings, cargo doc -D warnings, cargo test --workspace,
#   the pages' type check (npm run check in web/) and the browser tests (node --test
#   tests/web/) against the binary cargo test built.
# Every step must pass; PostGIS that cannot be started fails the run. The server is
# stopped and its directory removed on exit, whatever happened.
#
# Exports for the tests: GRIDGOV_TEST_DATABASE_URL, GRIDGOV_SHARED (../shared, when it
# exists), GRIDGOV_BIN (the debug gridgov binary, honouring CARGO_TARGET_DIR).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { echo "gridgov: $*" >&2; }

PG_DIR=""
current="setup"
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $PG_DIR ]]; then
        bash scripts/pg.sh stop "$PG_DIR" || say "could not remove $PG_DIR"
    fi
    if ((rc != 0)); then
        say "FAILED at: $current (exit $rc)"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() {
    current=$1
    shift
    echo "==> $current" >&2
    local t0=$SECONDS
    "$@"
    echo "    ($current: $((SECONDS - t0)) s)" >&2
}

step "setup (scripts/setup.sh)" bash scripts/setup.sh

current="rust toolchain"
for tool in fmt clippy; do
    if ! cargo "$tool" --version >/dev/null 2>&1; then
        comp=$([[ $tool == fmt ]] && echo rustfmt || echo clippy)
        say "cargo $tool is missing; adding the $comp component"
        rustup component add "$comp"
    fi
done

current="start PostGIS (scripts/pg.sh start)"
echo "==> $current" >&2
if ! pg_env=$(GRIDGOV_PG_OWNER=$$ bash scripts/pg.sh start); then
    say "PostGIS could not be started, so the tests that need it cannot run"
    exit 1
fi
eval "$pg_env"
PG_DIR=$GRIDGOV_PG_DIR
export GRIDGOV_TEST_DATABASE_URL

if [[ -z ${GRIDGOV_SHARED:-} && -d $ROOT/../shared ]]; then
    GRIDGOV_SHARED=$(realpath "$ROOT/../shared")
    export GRIDGOV_SHARED
fi
export GRIDGOV_BIN=${GRIDGOV_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/gridgov}

step "cargo fmt --all --check" cargo fmt --all --check
step "cargo clippy --workspace --all-targets -- -D warnings" \
    cargo clippy --workspace --all-targets -- -D warnings
step "cargo doc --workspace --no-deps (warnings denied)" \
    env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
step "cargo test --workspace" cargo test --workspace
# The browser tests drive the gridgov binary that `cargo test` built for the end-to-end
# test (crates/gridgov-cli's [[test]]). Building it again with `cargo build -p` would
# resolve features without the dev-dependencies and recompile half the tree.
current="gridgov binary from cargo test"
if [[ ! -x $GRIDGOV_BIN ]]; then
    say "cargo test did not leave $GRIDGOV_BIN for the browser tests"
    exit 1
fi

shopt -s nullglob
web_tests=(tests/web/*.test.mjs)
shopt -u nullglob
if ((${#web_tests[@]} == 0)); then
    current="browser tests"
    say "no browser tests found in tests/web/"
    exit 1
fi
# The pages' TypeScript, strict (scripts/setup.sh has built web/dist from it).
step "web: npm run check (tsc --noEmit)" npm --prefix web run --silent check
step "browser tests (node --test tests/web/)" node --test "${web_tests[@]}"

current="done"
echo "gridgov: all checks passed"
