# EduCase: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_DIR ?= instance/demo

.PHONY: install test demo bench lint clean assets chromium

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## make test: install, lint and run the whole suite (EDUCASE_DATABASE_URL picks the database)
test: install chromium
	$(BIN)/ruff check .
	$(BIN)/pytest -q

## the browser tests drive Debian's chromium (never a downloaded browser)
chromium:
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| echo "Install Debian's chromium (apt-get install -y chromium): the browser tests need it."

## make demo: a fresh demo database (processes, accounts, a synthetic LA, sample cases), served on http://127.0.0.1:5000
demo: install
	EDUCASE_INSTANCE_PATH=$(DEMO_DIR) EDUCASE_DATABASE_URL=sqlite:///$(abspath $(DEMO_DIR))/educase.sqlite \
		$(BIN)/python -m webapp.demo --fresh

## make bench: the benchmarks at their default (small) size
bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/attendance.py
	$(BIN)/python bench/web.py

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check engine webapp admin bench

clean:
	rm -rf $(VENV) instance build *.egg-info

## make assets: refresh webapp/static/vendor from the pinned npm packages (needs Node; not needed to install)
assets:
	npm ci --ignore-scripts --no-audit --no-fund
	$(BIN)/python scripts/vendor_assets.py
