# The commands people run. The build directory lives outside the checkout so
# that fresh clones (CI) rebuild incrementally.
export CARGO_TARGET_DIR ?= /var/tmp/ironclad-target
DATA_DIR ?= /var/lib/ironclad

.PHONY: setup build up test lint fmt bench

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

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

bench: build
	$(CARGO_TARGET_DIR)/release/ironclad bench store
