#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: Python packages and Debian's Chromium.
# Playwright cannot download its own browsers here, so the browser tests drive the system chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1 && [ -z "${STUDIO_CHROMIUM:-}" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
fi
echo "setup-tests: python packages and chromium are ready"
