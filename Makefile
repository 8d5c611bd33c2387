# One command each: `make run` (demo) and `make test` (the suite) set up .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test bench lint fuzz stress mutants setup clean binutils

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
	$(BIN)/kthreadd-emu ps --cpus 3

test: $(STAMP) binutils
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/kthreadd-emu bench

# The long runs; the suite has short seeded versions of both.
stress: $(STAMP)
	$(BIN)/kthreadd-emu stress --threads 100000 --cpus 2

fuzz: $(STAMP)
	$(BIN)/python tools/fuzz_asm.py --cases 200000 --seed 7

# Each mutant of tools/mutants.py (a small bug in the kernel's code) must fail the suite.
mutants: $(STAMP)
	$(BIN)/python tools/mutants.py

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
