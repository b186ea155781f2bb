# Two commands do all set-up on a fresh machine with Python 3.11+ and make:
#   make run    -- create .venv, install fieldkit, start it
#   make test   -- create .venv, install fieldkit with test tools, run lint, types, layer check and tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# An independent age implementation (npm age-encryption) for the interop tests.
INTEROP := tests/interop/node_modules/.installed

.PHONY: run test test-slow lint typecheck bench clean pot po mo translations

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

# Translations (Babel, a test dependency; the .po and .mo files are checked in, so
# running fieldkit needs neither Babel nor GNU gettext). After changing user-visible
# strings, one command brings every catalogue up to date:
#   make translations   (= make pot po mo)
# then translate the new empty or "fuzzy" entries in fieldkit/locale/*/LC_MESSAGES/fieldkit.po
# and run `make mo` again. tests/test_i18n.py fails on a missing, fuzzy or stale entry.
LANGS := ru tg
pot: $(STAMP)
	$(BIN)/pybabel extract --no-location --no-wrap --sort-output --keywords=N_ \
		--project=fieldkit --version=$$($(BIN)/python -c 'import fieldkit; print(fieldkit.__version__)') \
		--msgid-bugs-address=security@fieldkit.invalid --copyright-holder='fieldkit authors' \
		--output-file=fieldkit/locale/fieldkit.pot fieldkit
	sed -i '/^"POT-Creation-Date:/d' fieldkit/locale/fieldkit.pot

po: $(STAMP)
	for l in $(LANGS); do \
		$(BIN)/pybabel update --no-wrap --ignore-obsolete --init-missing \
			--domain=fieldkit --input-file=fieldkit/locale/fieldkit.pot \
			--output-dir=fieldkit/locale --locale=$$l; \
	done
	sed -i '/^"POT-Creation-Date:/d' fieldkit/locale/*/LC_MESSAGES/fieldkit.po

mo: $(STAMP)
	$(BIN)/pybabel compile --domain=fieldkit --directory=fieldkit/locale --statistics

translations: pot po mo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules
