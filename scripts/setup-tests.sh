#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: Python packages, Debian's Chromium and PostgreSQL.
# Playwright cannot download its own browsers here, so the browser tests drive the system chromium.
# The History store tests start their own PostgreSQL from Debian's server binaries (initdb, pg_ctl under
# /usr/lib/postgresql/<version>/bin); they fail without them unless STUDIO_SKIP_POSTGRES=1.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1 && [ -z "${STUDIO_CHROMIUM:-}" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
fi

have_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if ! have_initdb; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
echo "setup-tests: python packages, chromium and postgresql are ready"
