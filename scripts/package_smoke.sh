#!/usr/bin/env bash
# The packages as a user gets them: builds the Python wheel and the npm packages around an
# already-built binary, installs them from the built files into a scratch venv and a scratch
# npm project outside the checkout, with no cargo on PATH and no TRUIDENTIDAD_MOCK_BIN, and runs
# a user's test (create, arm, advance, poll) and the example apps' tests there.
#
#   bash scripts/package_smoke.sh target/debug/truidentidad-mock [DIST_DIR]
#
# DIST_DIR (default: a temporary directory) keeps the wheel and the tarballs. Needs python3
# (venv, pip) and node + npm; flask and express come from PyPI and npm.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${1:?usage: package_smoke.sh BINARY [DIST_DIR]}")"
DIST="${2:-$(mktemp -d)}"
mkdir -p "$DIST"
DIST="$(realpath "$DIST")"
SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT

say() { printf '\n--> %s\n' "$*"; }

say "build the wheel and the npm packages from $BIN"
WHEEL="$(python3 "$ROOT/scripts/build_wheel.py" --binary "$BIN" --out "$DIST")"
mapfile -t TARBALLS < <(python3 "$ROOT/scripts/build_npm.py" --binary "linux-x64=$BIN" --out "$DIST")
ls -l "$WHEEL" "${TARBALLS[@]}"

# The scratch side sees only the interpreters: PATH holds their directories and the system
# ones, nothing of the Rust toolchain, and the environment nothing of this checkout.
PY="$(python3 -c 'import sys; print(sys.executable)')"
NODE_DIR="$(dirname "$(realpath "$(command -v node)")")"
NPM_DIR="$(dirname "$(command -v npm)")"
CLEAN_PATH="$NODE_DIR:$NPM_DIR:/usr/local/bin:/usr/bin:/bin"
for dir in ${CLEAN_PATH//:/ }; do
  if [ -x "$dir/cargo" ]; then echo "package_smoke: $dir holds cargo; cannot build a PATH without it" >&2; exit 1; fi
done
mkdir -p "$SCRATCH/home"
scratch() {
  (cd "$SCRATCH" && env -i HOME="$SCRATCH/home" PATH="$CLEAN_PATH" LANG=C.UTF-8 \
    npm_config_cache="$SCRATCH/home/.npm" npm_config_update_notifier=false bash -euo pipefail -c "$1")
}

say "Python: pip install <wheel> into a scratch venv, then pytest"
mkdir -p "$SCRATCH/py/tests"
# The README's snippet under the name it gives itself, then what only an install can show.
cp "$ROOT/clients/python/smoke/test_readme.py" "$SCRATCH/py/tests/test_truora.py"
cp "$ROOT/clients/python/smoke/test_installed.py" "$SCRATCH/py/tests/"
cp "$ROOT"/clients/python/example/{app.py,conftest.py,truora_client.py} "$SCRATCH/py/"
cp "$ROOT"/clients/python/example/tests/*.py "$SCRATCH/py/tests/"
"$PY" -m venv "$SCRATCH/py/venv"
scratch "
  cd py
  ! command -v cargo
  venv/bin/pip install --quiet --disable-pip-version-check '$WHEEL' -r '$ROOT/clients/python/example/requirements.txt'
  venv/bin/truidentidad-mock --version
  venv/bin/pytest -q -p no:cacheprovider tests
"

say "Node.js: npm install <tarballs> into a scratch project, then node --test"
mkdir -p "$SCRATCH/node/test"
cp "$ROOT/clients/node/smoke/readme.test.js" "$SCRATCH/node/test/truora.test.js"
cp "$ROOT/clients/node/smoke/installed.test.js" "$SCRATCH/node/test/"
cp "$ROOT"/clients/node/example/{app.js,truora-client.js} "$SCRATCH/node/"
cp "$ROOT"/clients/node/example/test/*.js "$SCRATCH/node/test/"
printf '{ "name": "scratch", "private": true, "type": "module" }\n' > "$SCRATCH/node/package.json"
EXPRESS="$(node -p "require('$ROOT/clients/node/example/package.json').dependencies.express")"
scratch "
  cd node
  ! command -v cargo
  npm install --no-audit --no-fund --loglevel=error ${TARBALLS[*]} 'express@$EXPRESS'
  npm ls --all | grep truidentidad-mock
  node --test test/
"
say "packages in $DIST"
