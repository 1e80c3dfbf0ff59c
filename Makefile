# The commands people run. The build directory lives outside the checkout so
# that fresh clones (CI) rebuild incrementally.
export CARGO_TARGET_DIR ?= /var/tmp/ironclad-target
DATA_DIR ?= /var/lib/ironclad

.PHONY: setup build up test test-python lint fmt bench acceptance

setup:
	bash scripts/setup.sh

build: setup
	cargo build --release -p ironclad

# Start a single-node cluster on the embedded store.
up: build
	$(CARGO_TARGET_DIR)/release/ironclad up --data-dir $(DATA_DIR)

# The whole test suite: unit, conformance (embedded and real etcd), crash,
# election and podmaster end-to-end tests.
test: setup
	cargo nextest run --workspace --no-fail-fast

# The official Python client (PyPI `kubernetes`) against a fresh server
# (tests/python; the fixture starts and stops it).
test-python: setup
	cargo build -p ironclad
	IRONCLAD_BIN=$(CARGO_TARGET_DIR)/debug/ironclad PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -q tests/python

# The shared kubectl scenarios that need no node, against a fresh server.
acceptance: setup
	cargo build -p ironclad
	bash scripts/acceptance.sh $(CARGO_TARGET_DIR)/debug/ironclad

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

bench: build
	$(CARGO_TARGET_DIR)/release/ironclad bench store
	$(CARGO_TARGET_DIR)/release/ironclad bench api
	$(CARGO_TARGET_DIR)/release/ironclad bench scheduler

# Fuzzing (see fuzz/README.md). fuzz-smoke runs on stable, as CI does: every
# target on its seeds and then seeded mutations of them, FUZZ_SECONDS each.
# fuzz runs libFuzzer on FUZZ_TARGET (cargo-fuzz and a nightly toolchain).
FUZZ_SECONDS ?= 15
FUZZ_TARGET ?= label_selector
FUZZ_TIME ?= 600
.PHONY: fuzz fuzz-smoke

fuzz-smoke:
	cargo run --quiet --manifest-path fuzz/Cargo.toml --no-default-features --bin smoke -- --seconds $(FUZZ_SECONDS)

fuzz:
	mkdir -p fuzz/corpus/$(FUZZ_TARGET)
	cd fuzz && cargo +nightly fuzz run $(FUZZ_TARGET) corpus/$(FUZZ_TARGET) seeds/$(FUZZ_TARGET) -- -max_total_time=$(FUZZ_TIME)
