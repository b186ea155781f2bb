# Two commands do all set-up on a fresh machine with Python 3.11+ and make:
#   make run    -- create .venv, install fieldkit, start it
#   make test   -- create .venv, install fieldkit with test tools, run lint, types, layer check and tests
# Every package comes from a hash-pinned lock file (docs/install.md): requirements.lock for
# fieldkit's own dependencies, requirements-test.lock for those plus the test tools,
# packaging/build.lock for pip and the build backend. `make lock` rewrites them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed-test
LOCKS     := requirements.lock requirements-test.lock packaging/build.lock packaging/lock-tool.lock
# An independent age implementation (npm age-encryption) for the interop tests.
INTEROP := tests/interop/node_modules/.installed
# Packaging outputs are reproducible: every timestamp is this one (the last commit's).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 1767225600)
export SOURCE_DATE_EPOCH

.PHONY: run test test-slow test-packaging lint typecheck bench clean pot po mo translations lock wheelhouse deb

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip and setuptools first (hash-pinned), so fieldkit itself builds without fetching
# an unpinned backend (--no-build-isolation), then exactly the locked dependencies.
$(RUN_STAMP): $(BIN)/python pyproject.toml requirements.lock packaging/build.lock
	$(PIP) install --quiet --require-hashes -r packaging/build.lock
	$(PIP) install --quiet --require-hashes -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-test.lock
	$(PIP) install --quiet --require-hashes -r requirements-test.lock
	touch $(STAMP)

$(INTEROP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --silent
	touch $(INTEROP)

run: $(RUN_STAMP)
	$(BIN)/fieldkit $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check fieldkit tests bench scripts packaging

typecheck: $(STAMP)
	$(BIN)/mypy

# -n auto: one pytest worker a core (pytest-xdist); the UI tests spend much of their
# time waiting for the app, so the workers overlap those waits.
test: lint typecheck $(INTEROP)
	$(BIN)/python -m pytest -m "not slow" -n auto

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Only the slow packaging tests: wheelhouse install offline, .deb built twice, lintian.
test-packaging: $(STAMP)
	$(BIN)/python -m pytest -m slow tests/test_packaging.py

# Resolve every lock file again, for Linux, macOS and Windows alike (--universal), from
# Python 3.11 up, keeping today's pins where they still fit (LOCKFLAGS=--upgrade moves
# them); then record what each was resolved from (packaging/locks.py stamp).
UV_COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' $(LOCKFLAGS)
lock: $(BIN)/python
	$(PIP) install --quiet --require-hashes -r packaging/lock-tool.lock
	$(UV_COMPILE) pyproject.toml -o requirements.lock
	$(UV_COMPILE) pyproject.toml --extra test -c requirements.lock -o requirements-test.lock
	$(UV_COMPILE) packaging/build.in -o packaging/build.lock
	$(UV_COMPILE) packaging/lock-tool.in -o packaging/lock-tool.lock
	$(BIN)/python packaging/locks.py stamp

# Every wheel requirements.lock names, for Linux x86-64 and arm64 and macOS on Apple
# silicon (Intel Macs have no cryptography wheel), CPython
# 3.11-3.13, plus fieldkit's own wheel, with SHA256SUMS: copy the folder to a stick.
wheelhouse: $(STAMP)
	$(BIN)/python packaging/wheelhouse.py --out wheelhouse

# dist/fieldkit_<version>-1~deb12_amd64.deb for Debian 12 and Tails 6 (DIST=trixie:
# Debian 13; ARCH=arm64: 64-bit ARM), reproducible (docs/install.md).
DIST ?= bookworm
deb: $(STAMP)
	$(BIN)/python packaging/debian/build.py --dist $(DIST) $(if $(ARCH),--arch $(ARCH)) --out dist

bench: $(STAMP)
	$(BIN)/python -m bench.bench_vault
	$(BIN)/python -m bench.bench_bundles
	$(BIN)/python -m bench.bench_ui
	$(BIN)/python -m bench.bench_hq --records 20000

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/interop/node_modules \
		build dist wheelhouse
