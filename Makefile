# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run` listens on loopback only; `make run BIND=0.0.0.0` to accept other machines.
BIND ?= 127.0.0.1
PORT ?= 5055
# The web inspector at http://127.0.0.1:$(PORT)/inspect (docs/inspector.md), on for a loopback
# BIND; `make run INSPECT=` turns it off. On another BIND, `INSPECT=--inspect` needs an auth
# token too (ACTION_SERVER_AUTH_TOKEN), so by default it stays off there.
INSPECT ?= $(if $(filter 127.0.0.1 localhost ::1,$(BIND)),--inspect,)

.PHONY: install run test lint typecheck bench bench-grpc grpc-stubs clean compat

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/action-server run --actions actions --flows flows --endpoints endpoints.yml --host $(BIND) -p $(PORT) $(INSPECT)

lint: $(STAMP)
	$(BIN)/ruff check action_server actions examples tests bench
	$(BIN)/ruff format --check action_server actions examples tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -q

# Differential tests against the real rasa-sdk (docs/compatibility.md); part of `make test`.
compat: $(STAMP)
	$(BIN)/pytest -q -m compat

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The gRPC webhook against rasa-sdk's gRPC server (bench/grpc_bench.py).
bench-grpc: $(STAMP)
	$(BIN)/python bench/grpc_bench.py

# Regenerate the committed gRPC stubs after editing a .proto in action_server/grpc_py/.
grpc-stubs: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. \
		action_server/grpc_py/action_webhook.proto
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. \
		action_server/grpc_py/webhook_views.proto

clean:
	rm -rf $(VENV) tests/.venv-rasa-sdk .pytest_cache .mypy_cache .ruff_cache
