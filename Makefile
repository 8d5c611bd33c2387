# One command each: `make run` (demo) and `make test` (the suite) set up .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test bench lint fuzz stress setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# GNU as is the reference our assembler is tested against.
binutils:
	@command -v as >/dev/null && command -v objcopy >/dev/null || \
	  (apt-get update -q && apt-get install -y -q binutils)

run: $(STAMP)
	$(BIN)/kthreadd-emu walk

test: $(STAMP) binutils
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/kthreadd-emu bench

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
