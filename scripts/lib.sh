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
    wheel_argon2
    echo "$wanted" > "$stamp"
}

# argon2-cffi-bindings from its published wheel only: a copy compiled for one CPU
# (-march=native) crashes a .venv moved to an older one. A .venv that holds such a build
# gets the wheel back here.
wheel_argon2() {
    local tag
    tag="$(.venv/bin/python - <<'PY' 2>/dev/null
from importlib.metadata import distribution
print(" ".join(line for line in (distribution("argon2-cffi-bindings").read_text("WHEEL") or "").splitlines() if line.startswith("Tag:")))
PY
)" || return 0
    case "$tag" in
        *manylinux*|*musllinux*|*macosx*|*win*) return 0 ;;
    esac
    echo "==> argon2-cffi-bindings was built on this machine: installing its wheel" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall \
        --no-deps --only-binary argon2-cffi-bindings argon2-cffi-bindings >&2
}
