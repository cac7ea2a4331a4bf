# One-command entry points for a fresh machine (see README.md).
VENV := .venv
PY := $(VENV)/bin/python
HOME_DIR ?= ./devnet
VALIDATORS ?= 4

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

.PHONY: setup devnet devnet-down test
setup: $(VENV)/.installed

devnet: setup
	$(VENV)/bin/brainchain devnet up --validators $(VALIDATORS) --home $(HOME_DIR)

devnet-down: setup
	$(VENV)/bin/brainchain devnet down --home $(HOME_DIR)

test:
	bash .ci/run
