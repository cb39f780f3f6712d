# Everything a fresh machine needs: `make run` and `make test` install what they use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python has no binary wheel on PyPI: it is compiled once (about 4.5 minutes on
# 2 cores) into this folder, outside the checkout, and reused by later installs and CI runs.
WHEELS ?= $(HOME)/.cache/voice-service/wheels
LLAMA_CPP_VERSION := 0.3.36
# A portable AVX2 build. The default -march=native build crashes on machines whose CPU
# advertises AMX that the virtual machine does not enable, and would not run elsewhere.
# No multimodal (mtmd/llava) library: nothing here reads images, and it is a fifth of the
# compile (5:37 -> 4:24 on 2 cores).
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF
LLAMA_WHEEL_STAMP := $(WHEELS)/.built-$(LLAMA_CPP_VERSION)

.PHONY: install install-dev run test lint typecheck pytest services browser compose prometheus bench clean

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools

$(LLAMA_WHEEL_STAMP): | $(BIN)/python
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
	  -w $(WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION)
	touch $@

$(VENV)/.llama: $(LLAMA_WHEEL_STAMP)
	$(BIN)/pip install --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.llama
	$(BIN)/pip install --find-links $(WHEELS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.llama
	$(BIN)/pip install --find-links $(WHEELS) $$(bash scripts/cpu-torch.sh $(BIN)/pip) -e '.[dev,learning,eval,train]'
	touch $@ $(VENV)/.installed

run: install
	$(BIN)/voice-service serve

services:
	bash scripts/ensure-services.sh

browser:
	bash scripts/ensure-chromium.sh

compose:
	bash scripts/ensure-compose.sh

prometheus:
	bash scripts/ensure-prometheus.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

# Two processes (pytest-xdist): much of the suite waits on real time (speech streamed at its
# own pace, workers, servers). A module's tests stay in one process (their module fixtures
# are made once); tests/conftest.py gives each process its own Redis database and puts the
# learning loop's slow files first, which --no-loadscope-reorder keeps at the front.
pytest: install-dev
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

test: install-dev services browser compose prometheus lint typecheck pytest

bench: install-dev
	$(BIN)/voice-service bench-chain tests/data/speech/jfk.flac --runs 5
	$(BIN)/voice-service bench-cache tests/data/speech/turns/complete_no_pause-00.flac --runs 5
	$(BIN)/voice-service nlu-eval tests/data/nlu_eval.jsonl
	$(BIN)/voice-service redact-eval tests/data/pii_eval.jsonl
	$(BIN)/voice-service qa-eval tests/data/qa_eval.jsonl
	$(BIN)/voice-service eval --set tests/data/speech/turns --no-production --report var/reports/bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
