# Two commands set everything up on a fresh machine:
#   make demo   the pipeline's test profile on the bundled data (the CLI steps where Nextflow can't run)
#   make test   lint, Nextflow static checks, every pytest test, nf-test where Nextflow runs
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SEQCLASS := $(BIN)/seqclass
DEMO_OUT ?= demo_out
DEMO := assets/demo
# Debian packages of the outside tools the steps call when they are on PATH
# (bwa and Debian's samtools, which brings wgsim, simulate and align the reads of tests/test_bam.py)
APT_TOOLS := mmseqs2 cd-hit ncbi-blast+ seqkit samtools bwa
TOOL_BINARIES := mmseqs cd-hit-est blastn seqkit samtools bwa wgsim

NF_CHECK ?= ../shared/tools/nf-check
# Nextflow: jars resolved from Maven Central by tools/nextflow/pom.xml (see tools/nextflow/README.md)
NXF_TOOLS := tools/nextflow
NXF_LINT_FIX := $(NXF_TOOLS)/lint-fix/nextflow/script/control/LazyErrorCollector.java
NEXTFLOW := PATH=$(abspath $(BIN)):$$PATH $(BIN)/nextflow

.PHONY: install nextflow tools test lint nf-check pytest nf-test demo demo-nextflow demo-cli clean

$(VENV)/.installed: pyproject.toml containers/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c containers/constraints.txt torch
	$(BIN)/pip install -q -c containers/constraints.txt -e '.[test,deep,hf,bam,pipeline]'
	touch $@

# Nextflow's jars into tools/nextflow/lib/ (ignored), the lint fix compiled beside them, and a
# `nextflow` on the venv's PATH; nothing is downloaded when Nextflow runs
$(NXF_TOOLS)/lib/.resolved: $(NXF_TOOLS)/pom.xml $(NXF_LINT_FIX)
	rm -rf $(NXF_TOOLS)/lib $(NXF_TOOLS)/classes
	mvn -q -B -f $(NXF_TOOLS)/pom.xml dependency:copy-dependencies
	javac -proc:none -nowarn -d $(NXF_TOOLS)/classes -cp '$(NXF_TOOLS)/lib/*' $(NXF_LINT_FIX)
	touch $@

$(BIN)/nextflow: $(NXF_TOOLS)/lib/.resolved | $(VENV)/.installed
	printf '#!/bin/sh\nexec "%s" "$$@"\n' "$(abspath $(NXF_TOOLS)/launch.sh)" > $@
	chmod +x $@
	$@ -version | grep -q 'version 25.04.4'

nextflow: $(BIN)/nextflow

install: $(VENV)/.installed $(BIN)/nextflow

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

nf-check:
	@if [ -x $(NF_CHECK) ]; then $(NF_CHECK) --strict .; \
	else echo "make test: $(NF_CHECK) is not beside this clone; Nextflow static checks skipped"; fi

pytest: install
	$(BIN)/python -m pytest -q

# nf-test needs a working Nextflow; GitHub Actions runs it (.github/workflows/ci.yml)
nf-test: install
	@if command -v nf-test >/dev/null && $(NEXTFLOW) -version >/dev/null 2>&1; then \
	  PATH=$(abspath $(BIN)):$$PATH nf-test test; \
	else echo "make test: Nextflow or nf-test cannot run here; nf-test skipped"; fi

# nf-check first: it installs the Groovy jars the module smoke test renders scripts with
test: install tools lint nf-check pytest nf-test

demo: install tools $(BIN)/nextflow
	@if $(NEXTFLOW) -version >/dev/null 2>&1; then $(MAKE) --no-print-directory demo-nextflow; \
	else echo "make demo: Nextflow cannot be installed here (its launcher could not fetch its runtime); running the same steps with the CLI"; \
	  $(MAKE) --no-print-directory demo-cli; fi

demo-nextflow: install tools
	$(BIN)/pip install -q -e '.[pipeline]'
	$(NEXTFLOW) run main.nf -profile test,local --outdir $(DEMO_OUT)
	@echo "demo: outputs in $(DEMO_OUT)/ — MultiQC report in $(DEMO_OUT)/multiqc/"

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
