# The two commands (see README.md):
#   make demo   bootstrap, build, and serve the demo store on http://127.0.0.1:8080
#   make test   bootstrap and run the whole test suite (what CI runs)
.PHONY: demo test build bootstrap sizes bench clean

ADDR ?= 127.0.0.1:8080

demo:
	@bash scripts/bootstrap.sh --no-browser
	@bash scripts/build.sh
	@bash scripts/demo.sh $(ADDR)

test:
	@bash scripts/test.sh

build:
	@bash scripts/bootstrap.sh --no-browser
	@bash scripts/build.sh

bootstrap:
	@bash scripts/bootstrap.sh

sizes:
	@node scripts/sizes.mjs

# Criterion benchmarks of the engine, a table of medians, then the same work in Chromium.
bench: build
	cargo bench -p tailor-core --bench engine
	@node scripts/bench-table.mjs
	@node scripts/bench-browser.mjs

clean:
	cargo clean
	rm -rf dist pkg .tailor
