#!/usr/bin/env bash
# Installs what gridgov needs to build, run and test on Debian 12, then the web dependencies
# (web/node_modules) and builds the pages (web/dist). Idempotent, a quick no-op when all is there.
#
#   bash scripts/setup.sh            everything: build, server, PostGIS, Chromium, web
#   bash scripts/setup.sh --server   only what `scripts/serve.sh` needs (no PostGIS,
#                                    no Chromium, no npm devDependencies)
#
# apt-get update runs only when a package is missing. Needs root (or sudo) only then.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=full
for arg in "$@"; do
    case "$arg" in
        --server) MODE=server ;;
        -h | --help)
            sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "setup.sh: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { echo "setup: $*" >&2; }

# --- Debian packages -------------------------------------------------------------

installed() {
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed
}

# Build: a C toolchain, pkg-config, GDAL's headers for gdal-sys and the system SQLite
# (sqlx uses `sqlite-unbundled`, so that GDAL and sqlx share one libsqlite3).
want=(pkg-config libgdal-dev libsqlite3-dev gdal-bin)
if ! command -v cc >/dev/null 2>&1; then
    want+=(gcc libc6-dev)
fi
# bindgen needs libclang. gdal-sys 0.12 ships prebuilt bindings for GDAL 3.4-3.12 (Debian 12
# has 3.6) and would use bindgen only with a feature gridgov does not enable, but sqlx's
# `sqlite-unbundled` makes libsqlite3-sys generate its bindings with bindgen. Whatever
# pulls it in, bindgen is built only if it is in Cargo.lock.
if grep -q '^name = "bindgen"$' "$ROOT/Cargo.lock"; then
    want+=(clang libclang-dev)
fi
# The server draws the basemap's Latin labels from DejaVu Sans (glyphs made from the font
# files, gridgov_basemap::Fonts::debian); Chinese labels are drawn by the browser.
want+=(fonts-dejavu-core)
if ! command -v node >/dev/null 2>&1; then
    # Debian 12's own Node.js (18) is enough; machines that already have a node (for
    # instance from NodeSource, which bundles npm) keep theirs.
    want+=(nodejs npm)
fi
if [[ $MODE == full ]]; then
    # PostGIS for the store tests, Chromium for the browser tests, and a CJK font so
    # that screenshots show Chinese text rather than boxes.
    want+=(postgresql-15-postgis-3 chromium fonts-wqy-microhei)
fi

missing=()
for pkg in "${want[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
    SUDO=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1; then
            SUDO=(sudo)
        else
            say "missing Debian packages: ${missing[*]}; run this script as root (or install sudo)"
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-q -o DPkg::Lock::Timeout=600)
    say "installing ${missing[*]}"
    "${SUDO[@]}" apt-get "${apt_opts[@]}" update >/dev/null
    "${SUDO[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
    for pkg in "${missing[@]}"; do
        installed "$pkg" || { say "could not install $pkg"; exit 1; }
    done
fi

if ! command -v npm >/dev/null 2>&1; then
    say "node is installed but npm is not; install npm for this node (Debian: apt-get install npm)"
    exit 1
fi
if [[ $MODE == full && ! -x /usr/bin/chromium ]]; then
    say "/usr/bin/chromium is missing although the chromium package is installed"
    exit 1
fi
if [[ $MODE == full && ! -x /usr/lib/postgresql/15/bin/initdb ]]; then
    say "/usr/lib/postgresql/15/bin/initdb is missing although postgresql-15 is installed"
    exit 1
fi

# --- web/node_modules and web/dist ---------------------------------------------------
# `npm ci` wipes and reinstalls node_modules every time, so it runs only when the
# lockfile changed since the last install (or the devDependencies are newly needed).
# The build tools (esbuild) are dependencies, so that `--server` (`--omit=dev`) can build;
# TypeScript's checker (`npm run check`, for the tests) is a devDependency.

WEB="$ROOT/web"
stamp="$WEB/node_modules/.gridgov-setup"
lock_sum=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
have=""
[[ -f $stamp ]] && have=$(cat "$stamp")
if [[ $have == "$lock_sum full" || ($MODE == server && $have == "$lock_sum server") ]]; then
    :
else
    npm_args=(ci --no-audit --no-fund --loglevel=error)
    [[ $MODE == server ]] && npm_args+=(--omit=dev)
    say "npm ${npm_args[*]} (web/)"
    (cd "$WEB" && npm "${npm_args[@]}" >/dev/null)
    echo "$lock_sum $MODE" >"$stamp"
fi

# The pages (web/src, TypeScript) are bundled into web/dist by `npm run build`, again only
# when the sources, the build script or the lockfile changed since the last build.
build_sum=$(cd "$WEB" && find src build.mjs package.json package-lock.json tsconfig.json -type f -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
build_stamp="$WEB/dist/.gridgov-build"
if [[ ! -f $WEB/dist/index.html || ! -f $build_stamp || $(cat "$build_stamp") != "$build_sum" ]]; then
    say "npm run build (web/ -> web/dist)"
    (cd "$WEB" && npm run --silent build >/dev/null)
    echo "$build_sum" >"$build_stamp"
fi
