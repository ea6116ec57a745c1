# Key-account sales coach. `make help` lists the targets.
.PHONY: help setup train run test shell lint nlu-report benchmark lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## create .venv (Python 3.10), install pinned dependencies and web assets
	@scripts/setup.sh

train: setup  ## train the model if data or config changed
	@scripts/train.sh

run:  ## set up, train if needed, and run action server + Rasa + web chat (http://127.0.0.1:8000)
	@scripts/run.sh

test:  ## set up, train if needed, validate data and run the whole test suite
	@scripts/test.sh

shell: train  ## chat in the terminal (needs the action server: run `make run` in another terminal)
	@test -f var/endpoints.run.yml || { echo "start 'make run' in another terminal first"; exit 1; }
	@. scripts/env.sh && .venv/bin/rasa shell --model models/sales-coach.tar.gz --endpoints var/endpoints.run.yml \
	  --port $${SHELL_PORT:-5006}

lint: setup  ## ruff
	@.venv/bin/ruff check bot actions tests scripts

nlu-report: train  ## NLU accuracy on the held-out set (tests/nlu/heldout)
	@. scripts/env.sh && .venv/bin/python scripts/nlu_report.py

benchmark: train  ## training/load time, parse and turn latency, memory
	@. scripts/env.sh && .venv/bin/python scripts/benchmark.py

lock:  ## re-resolve requirements.txt from requirements.in
	@.venv/bin/python -m pip install -r requirements.in && .venv/bin/python -m pip freeze --exclude-editable > requirements.txt

clean:  ## remove trained models and local databases (not the venv)
	rm -rf models/* var/
