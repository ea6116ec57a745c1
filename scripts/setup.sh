#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies (only when
# requirements.txt changed since the last install). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  if [ -n "${PYTHON310:-}" ] && [ -x "$PYTHON310" ]; then echo "$PYTHON310"; return; fi
  local root
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for p in "$root"/versions/3.10.*/bin/python; do
      [ -x "$p" ] && { echo "$p"; return; }
    done
  fi
  for p in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    command -v "$p" >/dev/null 2>&1 && { command -v "$p"; return; }
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python310) || {
    echo "ERROR: Python 3.10 is required (Rasa 3.6 runs on Python 3.8-3.10) and none was found." >&2
    echo "Install it (e.g. 'pyenv install 3.10.13') or set PYTHON310=/path/to/python3.10." >&2
    exit 1
  }
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==24.2"
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing pinned dependencies (requirements.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

mkdir -p var models

# System packages from Debian: a CJK font for the charts (bot/charts.py) and Chromium for
# the browser tests (driven by Python Playwright; `playwright install` cannot download here).
apt_missing=()
[ -n "${CHART_FONT:-}" ] || [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || apt_missing+=(fonts-wqy-microhei)
[ -x /usr/bin/chromium ] || apt_missing+=(chromium)
if [ ${#apt_missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "==> installing Debian packages: ${apt_missing[*]}"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
  else
    echo "WARNING: missing ${apt_missing[*]} (charts need a CJK font, browser tests need /usr/bin/chromium)." >&2
  fi
fi

# Browser assets: socket.io-client for the web chat (npm registry, pinned by web/package-lock.json).
web_stamp=web/node_modules/.lock.sha256
web_want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$web_want" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "==> installing web assets (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$web_want" > "$web_stamp"
  else
    echo "WARNING: npm not found; the web chat page needs web/node_modules/socket.io-client." >&2
  fi
fi
