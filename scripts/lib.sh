# Shared by scripts/quickstart, scripts/test and bench/run (sourced, not run).

# The first python3.x on PATH that is 3.11 or newer.
find_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# ensure_venv [EXTRAS]: create .venv if needed and install the package (editable) with the
# given extras. Skipped when pyproject.toml and this file have not changed since the last
# install (a stamp file in .venv records their hash per set of extras).
ensure_venv() {
    local extras="${1:-}" python spec stamp wanted done_stamp
    if [ ! -x .venv/bin/python ]; then
        if ! python="$(find_python)"; then
            echo "error: Frontdesk needs Python 3.11 or newer (python3.11 on PATH)" >&2
            return 1
        fi
        echo "==> creating .venv with $python" >&2
        if ! "$python" -m venv .venv; then
            echo "error: could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)" >&2
            return 1
        fi
    fi
    spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    stamp=".venv/.frontdesk-installed${extras:+-$extras}"
    wanted="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml","rb").read() + open("scripts/lib.sh","rb").read()).hexdigest())')"
    if [ -x .venv/bin/frontdesk ]; then
        # An install with the test extras covers the plain one too.
        for done_stamp in "$stamp" .venv/.frontdesk-installed-test; do
            if [ -f "$done_stamp" ] && [ "$(cat "$done_stamp")" = "$wanted" ] &&
               { [ "$done_stamp" = "$stamp" ] || [ -z "$extras" ]; }; then
                return 0
            fi
        done
    fi
    echo "==> installing $spec into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >&2 || return 1
    native_argon2
    echo "$wanted" > "$stamp"
}

# argon2-cffi's wheels carry portable SSE2 code. Built here for this CPU (AVX2/AVX-512) it
# hashes as fast as libsodium without libsodium's fresh 19 MiB mapping per hash, which costs
# about as much again in page faults; each server process times both and keeps the faster
# (app/accounts/passwords.py). Skipped without a C compiler, or with FRONTDESK_PORTABLE_ARGON2=1
# (for a .venv that will run on another, older CPU). A failed build keeps the wheel.
native_argon2() {
    local version
    [ "${FRONTDESK_PORTABLE_ARGON2:-0}" = 1 ] && return 0
    if ! command -v cc >/dev/null 2>&1; then
        echo "note: no C compiler (cc): argon2-cffi stays the portable wheel" >&2
        return 0
    fi
    version="$(.venv/bin/python -c 'from importlib.metadata import version; print(version("argon2-cffi-bindings"))')" || return 0
    echo "==> building argon2-cffi-bindings $version for this CPU" >&2
    ARGON2_CFFI_USE_SSE2=1 CFLAGS="-O3 -march=native" .venv/bin/python -m pip install --quiet \
        --disable-pip-version-check --force-reinstall --no-deps \
        --no-binary argon2-cffi-bindings "argon2-cffi-bindings==$version" >&2 ||
        echo "note: the native argon2 build failed: argon2-cffi stays the portable wheel" >&2
}
