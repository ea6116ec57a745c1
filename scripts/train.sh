#!/usr/bin/env bash
# Trains the Rasa model only when its inputs changed (config, domain, data, NLU code).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

inputs_hash() {
  find config.yml domain.yml data bot/nlu bot/numbers.py bot/lexicon.py bot/language.py requirements.txt \
    -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.txt' \) -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

model=models/sales-coach.tar.gz
stamp=models/.inputs.sha256
want=$(inputs_hash)
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ "${FORCE_TRAIN:-0}" != "1" ]; then
  echo "==> model is up to date ($model)"
  exit 0
fi
echo "==> training the model (data or config changed)"
start=$(date +%s)
# Train into a scratch folder and move the result into place in one step, so a server
# starting meanwhile never reads a half-written model.
tmp=models/.training
# No reuse of Rasa's training cache: its keys cover config and data but not the code of our own
# components (bot/nlu), so a changed component could come back from the cache as it was.
export RASA_MAX_CACHE_SIZE=0
rm -rf "$tmp"
.venv/bin/rasa train --fixed-model-name sales-coach --out "$tmp" --quiet
mv -f "$tmp/sales-coach.tar.gz" "$model"
rm -rf "$tmp"
echo "$want" > "$stamp"
echo "==> trained in $(( $(date +%s) - start )) s"
