# Two commands set everything up on a fresh machine:
#   make demo   build → split → chunk → train → evaluate → predict on the bundled data
#   make test   every test
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SEQCLASS := $(BIN)/seqclass
DEMO_OUT ?= demo_out
DEMO := assets/demo
# Debian packages of the outside tools the steps call when they are on PATH
APT_TOOLS := mmseqs2 cd-hit ncbi-blast+ seqkit samtools
TOOL_BINARIES := mmseqs cd-hit-est blastn seqkit samtools

.PHONY: install tools test lint demo demo-cli clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

tools:
	@missing=""; for t in $(TOOL_BINARIES); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make tools: installing$$missing from Debian packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_TOOLS) >/dev/null; \
	else \
	  echo "make tools: not on PATH:$$missing (apt-get install $(APT_TOOLS)); tests that need them skip"; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks bin/seqclass

test: install tools lint
	$(BIN)/python -m pytest -q

demo: demo-cli

demo-cli: install tools
	rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(SEQCLASS) build --samplesheet $(DEMO)/samplesheet.csv --rename-duplicate-ids \
	  --out $(DEMO_OUT)/dataset.parquet
	$(SEQCLASS) split --dataset $(DEMO_OUT)/dataset.parquet --identity 0.8 --threads 2 \
	  --out $(DEMO_OUT)/split.parquet
	$(SEQCLASS) chunk --dataset $(DEMO_OUT)/split.parquet --window 81 \
	  --out $(DEMO_OUT)/chunks.parquet
	$(SEQCLASS) train --dataset $(DEMO_OUT)/chunks.parquet --model kmer-logreg --k 5 \
	  --out $(DEMO_OUT)/model
	$(SEQCLASS) evaluate --model $(DEMO_OUT)/model --dataset $(DEMO_OUT)/split.parquet \
	  --out $(DEMO_OUT)/evaluation
	$(SEQCLASS) predict --model $(DEMO_OUT)/model --input $(DEMO)/e_coli_K12_0-20kb.fa \
	  --stride 20 --out $(DEMO_OUT)/predictions.tsv --tracks $(DEMO_OUT)/tracks.tsv
	@echo "demo: outputs in $(DEMO_OUT)/ — metrics in $(DEMO_OUT)/evaluation/metrics.json"

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
