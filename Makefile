# The two commands: `make run` (fresh machine to running app) and `make test` (the whole suite).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export COMPLAINTS_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test install letters-deps browser messages clean

$(BIN)/.installed: pyproject.toml package.json $(wildcard frontend/*.js) $(wildcard complaints_app/translations/*/LC_MESSAGES/*.po)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	npm install --no-audit --no-fund --loglevel=error
	npm run --silent build  # the process owners' modeller, bundled by esbuild into static/build/
	$(BIN)/pybabel compile -d complaints_app/translations
	touch $@

install: $(BIN)/.installed

# What WeasyPrint needs to render letters (with fonts for Polish and Ukrainian), from Debian.
LETTER_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
letters-deps:
	@dpkg -s $(LETTER_PACKAGES) >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq $(LETTER_PACKAGES))

# The browser the end-to-end tests drive: Debian's Chromium (Playwright never downloads one).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

run: install letters-deps
	$(BIN)/complaints init --demo
	@echo
	@echo "Complaints is starting at http://127.0.0.1:5000 (API: /api/v1/openapi.json)"
	@echo "Demo users (password 'demo-password'): staff, staff2, supervisor, manager, investigator, owner, admin"
	@echo "Their API tokens: $(COMPLAINTS_INSTANCE_PATH)/demo-tokens.txt"
	@echo
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile

test: install letters-deps browser
	$(BIN)/python -m pytest

# After texts change: the Polish catalog gains the new messages to translate (then `make install`).
messages:
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 -o messages.pot .
	$(BIN)/pybabel -q update --ignore-obsolete -i messages.pot -d complaints_app/translations
	rm messages.pot

clean:
	rm -rf $(VENV) instance node_modules
