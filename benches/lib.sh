# Shared by the bench scripts: messages, a work folder removed on exit (KEEP=1 keeps it),
# cleanup hooks, and pinned Python venvs. Source it after `set -euo pipefail`:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_init routing.sh          # defines say/die, WORK, the EXIT/INT/TERM traps
#   on_exit 'kill "$PID"'          # runs before the work folder goes, last added first
#   bench_venv "$VENV" python-module-check pkg==1.2 ...

# The script's name in messages.
BENCH_NAME=bench
# Commands run on exit, in reverse order of registration.
BENCH_HOOKS=()

say() { echo "$BENCH_NAME: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# Registers a command to run when the script ends, however it ends.
on_exit() { BENCH_HOOKS+=("$1"); }

bench_finish() {
    local rc=$?
    trap - EXIT INT TERM
    local i
    for ((i = ${#BENCH_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${BENCH_HOOKS[i]}" || say "cleanup failed: ${BENCH_HOOKS[i]}"
    done
    if [[ ${KEEP:-} == 1 ]]; then say "kept $WORK"; else rm -rf -- "$WORK"; fi
    exit "$rc"
}

# Names the script, makes $WORK and sets the traps.
bench_init() {
    BENCH_NAME=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-${BENCH_NAME%.sh}.XXXXXX")
    trap bench_finish EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# bench_venv VENV CHECK PIN...: makes VENV with python3 -m venv and pip-installs the pinned
# packages unless `python -c CHECK PIN...` already exits 0 in it.
bench_venv() {
    local venv=$1 check=$2
    shift 2
    if "$venv/bin/python" -c "$check" "$@" 2>/dev/null; then
        return 0
    fi
    say "installing $* into $venv"
    mkdir -p "$(dirname "$venv")"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv" ||
        die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet "$@" >&2 || die "pip could not install $*"
}

# A one-line description of this machine for the report.
machine_line() {
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
}
