# The two commands in the README, plus the pieces they are made of.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

.PHONY: demo test deps build release bench clean

## make demo: install what is needed, build, and run mooring on manifests/examples in a throw-away namespace.
demo: build
	scripts/testbed run -- scripts/demo

## make test: install what is needed, build, and run every test (unit and integration).
test: deps
	swift build --build-tests
	scripts/testbed selftest
	scripts/testbed run -- swift test --skip-build

deps:
	scripts/install-deps

build: deps
	swift build

## A release binary with the Swift runtime linked in: it runs on hosts without a Swift toolchain, and starts
## faster (no dynamic loading of Foundation and ICU).
COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
release: deps
	swift build -c release --static-swift-stdlib -Xcc -DMOORING_COMMIT='"$(COMMIT)"'

## make bench: the benchmarks against the kernel's limit and other tools (writes docs/performance.md).
bench: release
	benchmarks/run

clean:
	rm -rf .build
