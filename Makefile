# The two commands of the README:
#   make book   set up, then build the book (every chapter executed at the local scale) into _build/html
#   make test   set up, then run the tests and every chapter under nbval (smoke scale), plus the browser test
VENV  ?= .venv
PY    := $(VENV)/bin/python
SCALE ?= local
export TRANSFORMERS_VERBOSITY ?= error
export HF_HUB_DISABLE_PROGRESS_BARS ?= 1
export TQDM_DISABLE ?= 1
export SBERT_TEACH_RESOURCES ?= packaged
# Idle OpenMP threads sleep instead of spinning: on a busy machine spinning threads burned 2-3x the CPU for the
# same chapter (benchmarks/busy_machine.py, book/how_fast.md). Every kernel the build and the tests start inherits it.
export OMP_WAIT_POLICY ?= PASSIVE
# The per-cell timeout comes from measured cell times (root conftest.py, scripts/cell_timeouts.py)
NBVAL := --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup browser book results bench test test-fast clean

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: pyproject.toml scripts/setup.sh _offline/package-lock.json scripts/vendor_js.py
	bash scripts/setup.sh $(VENV)
	touch $@

# Debian's Chromium and ChromeDriver for tests/test_browser.py
browser:
	bash scripts/setup_browser.sh

# -W -n --keep-going: a failing notebook or a broken reference fails the build (exit code != 0).
# scripts/execute_book.py executes the chapters that changed into jupyter-book's cache (per-cell timeout from
# measured cell times, one retry of a chapter whose kernel stopped answering); the build then uses the cache.
book: setup
	@start=$$(date +%s); \
	$(PY) scripts/instructors_page.py && \
	SBERT_TEACH_SCALE=$(SCALE) $(PY) scripts/execute_book.py --scale $(SCALE) && \
	SBERT_TEACH_HEADLESS=1 SBERT_TEACH_SCALE=$(SCALE) $(VENV)/bin/jupyter-book build . -W -n --keep-going && \
	$(PY) scripts/execution_report.py && \
	echo "book built in $$(( $$(date +%s) - start )) s: open _build/html/index.html"

# The earlier main job: train and evaluate every objective, write _build/results/results.md
results: setup
	$(PY) scripts/main_job.py --scale $(SCALE) --output _build/results

# Performance benchmarks (appendix "How fast is it?"): each --quick run takes about a minute
bench: setup
	for b in train_vs_st encode_vs_st scaling switches; do $(PY) benchmarks/$$b.py --quick || exit 1; done
	$(PY) benchmarks/report.py

# The core tests again, with the lowest transformers and datasets pyproject.toml declares (tests that
# compare with sentence-transformers need a newer transformers and run only in the main environment)
LOWEST := .venv-lowest
CORE_TESTS := tests/test_pooling.py tests/test_objectives.py tests/test_encoder.py tests/test_speed.py \
	tests/test_data.py tests/test_training_loop.py tests/test_precision.py tests/test_compat.py \
	tests/test_persistence.py tests/test_bad_input.py tests/test_evaluation.py tests/test_fuzz_loaders.py \
	tests/test_reliability.py tests/test_errors.py

$(LOWEST)/.setup-done: pyproject.toml scripts/setup_lowest.sh
	bash scripts/setup_lowest.sh $(LOWEST)
	touch $@

test: setup browser $(LOWEST)/.setup-done
	SBERT_TEACH_SCALE=smoke $(PY) -m pytest -raP --durations=25 tests notebooks $(NBVAL)
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -m "not slow and not browser" \
		-k "not parity and not sentence_transformers" $(CORE_TESTS)

test-fast: setup
	$(PY) -m pytest -ra -m "not slow and not browser" tests

clean:
	rm -rf _build runs
