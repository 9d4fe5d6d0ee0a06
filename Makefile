# Two commands for a fresh clone: `make demo` and `make test`. Each creates .venv itself.
# The first interpreter that really runs and is 3.11+ (a pyenv shim may exist but not run).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest installed bench stress clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "liveguard needs Python 3.11 or newer (python3 on PATH)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liveguard demo

test: $(STAMP) lint typecheck pytest installed

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

# What users install: the wheel in a fresh venv, the installed command run (scripts/check_installed.py).
installed: $(STAMP)
	$(BIN)/python scripts/check_installed.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# The torture suite at full size: kill -9 loops, hypothesis fuzzing, network and disk faults.
STRESS_TESTS := tests/test_state_store.py tests/test_promo_crash.py tests/test_config_fuzz.py \
	tests/test_promo_fuzz.py tests/test_fuzz_imports.py tests/test_fuzz_replies.py \
	tests/test_network_faults.py tests/test_disk_faults.py tests/test_room_crash.py \
	tests/test_expectation_fuzz.py tests/test_quit.py

stress: $(STAMP)
	$(BIN)/python -m pytest -q --big --timeout 3600 $(STRESS_TESTS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
