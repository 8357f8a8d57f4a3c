# The command surface. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=

.PHONY: run test venv install install-dev migrate demo worker check bench drill screenshots clean

$(PY):
	@python=$$(scripts/find_python.sh) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)
	@$(PIP) install -q --upgrade pip

# Reinstall only when the requirements change.
$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -q -r requirements-dev.txt
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: set up (venv, migrate, demo data when empty) and start web + worker + beat on 127.0.0.1:8000
run: install
	@scripts/run_dev.sh

## test: install what tests need and run the whole suite (REQUIRE_SERVICES=1 fails instead of skipping)
test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## check: Django's deployment checks with production-like settings
check: install
	DEBUG=0 SECRET_KEY=$$(openssl rand -hex 32) ALLOWED_HOSTS=crm.example.org SITE_URL=https://crm.example.org \
	  EMAIL_URL=smtp+tls://crm:secret@smtp.example.org:587 REDIS_URL=redis://127.0.0.1:6379/0 \
	  DATABASE_URL=$${DATABASE_URL:-postgres://crm@127.0.0.1:5432/crm} \
	  $(PY) manage.py check --deploy --fail-level WARNING

## bench: the benchmark suite (writes docs/benchmarks.md)
bench: install-dev
	bench/run

## drill: production layout on loopback (2 web, 2 workers, beat, SMTP sink), a worker killed mid-run (≤ 5 min)
drill: install-dev
	scripts/drill.sh $(DRILL_ARGS)

## screenshots: PNGs of the main pages (1366 and 390 px) and the PDF briefing under docs/screenshots/ (fresh demo DB)
screenshots: install-dev
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) var staticfiles
