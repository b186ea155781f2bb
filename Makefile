# Two commands do all set-up on a fresh machine with Python 3.11+ and make:
#   make run    -- create .venv, install fieldkit, start it
#   make test   -- create .venv, install fieldkit with test tools, run lint, types, layer check and tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# An independent age implementation (npm age-encryption) for the interop tests.
INTEROP := tests/interop/node_modules/.installed

.PHONY: run test test-slow lint typecheck bench clean pot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(INTEROP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --silent
	touch $(INTEROP)

run: $(STAMP)
	$(BIN)/fieldkit $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check fieldkit tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck $(INTEROP)
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	$(BIN)/python -m bench.bench_vault
	$(BIN)/python -m bench.bench_bundles
	$(BIN)/python -m bench.bench_ui
	$(BIN)/python -m bench.bench_hq --records 20000

# The translation template (needs GNU gettext's xgettext). Translators copy it to
# fieldkit/ui/locale/<lang>/LC_MESSAGES/fieldkit.po and compile it to fieldkit.mo.
pot:
	xgettext --language=Python --keyword=_ --keyword=ngettext:1,2 --from-code=UTF-8 \
		--package-name=fieldkit --output=fieldkit/ui/locale/fieldkit.pot \
		$$(find fieldkit/ui -name '*.py' | sort)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules
