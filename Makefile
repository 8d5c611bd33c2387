# One command each: `make run` (demo) and `make test` (the suite) set up .venv first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: run test bench docs docs-examples lint fuzz fuzz-gdb fuzz-debug gdb stress mutants setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/kthreadd-emu walk
	$(BIN)/kthreadd-emu ps --cpus 3

# Needs no root: without GNU binutils (as, ld) the tests comparing our
# assembler with GNU as skip, and say so.  The suite also builds the docs
# (mkdocs build --strict) and runs their examples.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The figures also go into the docs' performance page.
bench: $(STAMP)
	$(BIN)/kthreadd-emu bench --page docs/performance.md

# The site, in site/ (docs/*.md; the reference parts come from the code).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The outputs the docs' examples show, rewritten from a run (review with git diff).
docs-examples: $(STAMP)
	KTHREADD_EMU_UPDATE_DOCS=1 $(BIN)/python -m pytest -q tests/docs/test_examples.py

# The long runs; the suite has short seeded versions of each.
stress: $(STAMP)
	$(BIN)/kthreadd-emu stress --threads 100000 --cpus 2

fuzz: $(STAMP)
	$(BIN)/python tools/fuzz_asm.py --cases 20000 --seed 7

# Each mutant of tools/mutants.py (a small bug in the kernel's code) must fail the suite.
mutants: $(STAMP)
	$(BIN)/python tools/mutants.py

fuzz-gdb: $(STAMP)
	$(BIN)/python tools/fuzz_gdb.py --cases 20000 --seed 7

# Random and hostile command files for `debug --batch -x` (each case forked, CPU-bounded).
fuzz-debug: $(STAMP)
	$(BIN)/python tools/fuzz_debug.py --cases 1000 --seed 7

# The server on :$(GDB_PORT) in the background, gdb in front with the ELF's types,
# line tables, unwind information and helpers (lx-ps, $lx_current() ...: allowed
# to auto-load from kernel.elf); quitting gdb stops both.  GDB_ARGS: more of gdb's
# arguments (-batch -ex CMD ...).
GDB      ?= gdb
GDB_PORT ?= 1234
GDB_ARGS ?=
gdb: $(STAMP)
	$(BIN)/kthreadd-emu gdbserver --cpus 2 --port $(GDB_PORT) --elf kernel.elf & \
	  srv=$$!; sleep 2; $(GDB) -iex 'add-auto-load-safe-path $(CURDIR)/kernel.elf' kernel.elf \
	  -ex 'target remote 127.0.0.1:$(GDB_PORT)' $(GDB_ARGS); kill $$srv 2>/dev/null; true

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build site *.egg-info
