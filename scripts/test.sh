#!/usr/bin/env bash
# Sets everything up (venv, pinned dependencies, web assets, model) and runs the
# whole test suite: data validation, then pytest (unit, store incl. PostgreSQL,
# actions, conversations through the trained model, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/train.sh
source scripts/env.sh

echo "==> rasa data validate"
.venv/bin/rasa data validate --fail-on-warnings --quiet
echo "==> pytest"
.venv/bin/python -m pytest "$@"
