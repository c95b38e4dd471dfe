# The two commands in the README, plus the pieces they are made of.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin

.PHONY: demo test deps build release deb install uninstall bench filter-cost lifecycle-bench check-link-kind clean

## make demo: install what is needed, build, and run mooring on manifests/examples in a throw-away namespace.
demo: build
	scripts/testbed run -- scripts/demo

## make test: install what is needed, build, and run every test (unit, integration, and on a PID 1 host).
## The PID 1 tests install the package (make deb) into a cached Debian tree booted with systemd-nspawn; the seed's
## network-config is rendered by Debian's own cloud-init in cached bookworm and trixie trees, and a cached Debian 12
## cloud guest (scripts/debian-guest) boots under TCG and is checked over SSH.
test: deps
	swift build --build-tests
	$(MAKE) --no-print-directory deb
	scripts/pid1bed tree >/dev/null
	scripts/cloud-init-tree bookworm >/dev/null
	scripts/cloud-init-tree trixie >/dev/null
	scripts/debian-guest >/dev/null
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

## make deb: a Debian package of the release binary (scripts/make-deb), in .build/deb/.
deb: release
	scripts/make-deb

## make install / make uninstall, for people who build from source: the binary and the units (naming the
## installed path), the docs, an empty /etc/mooring/manifests. Nothing is enabled or started.
PREFIX ?= /usr/local
install: release
	install -D -m 0755 .build/release/mooring $(DESTDIR)$(PREFIX)/bin/mooring
	install -D -m 0755 scripts/gitops-pull $(DESTDIR)$(PREFIX)/lib/mooring/gitops-pull
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	.build/release/mooring --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mooring
	.build/release/mooring --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mooring
	.build/release/mooring --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mooring.fish
	install -d -m 0755 $(DESTDIR)/etc/mooring/manifests $(DESTDIR)$(PREFIX)/share/doc/mooring $(DESTDIR)/etc/systemd/system
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/mooring/
	for unit in units/*.service units/*.timer; do sed 's|/usr/bin/mooring|$(PREFIX)/bin/mooring|; s|/usr/lib/mooring|$(PREFIX)/lib/mooring|; s|/usr/share/doc/mooring|$(PREFIX)/share/doc/mooring|' \
	  $$unit > $(DESTDIR)/etc/systemd/system/$$(basename $$unit); done
	install -D -m 0644 units/sysusers.d/mooring.conf $(DESTDIR)/etc/sysusers.d/mooring.conf
	if [ -z "$(DESTDIR)" ]; then systemd-sysusers /etc/sysusers.d/mooring.conf; fi
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

uninstall:
	for unit in units/*.service units/*.timer; do rm -f $(DESTDIR)/etc/systemd/system/$$(basename $$unit); done
	rm -f $(DESTDIR)/etc/sysusers.d/mooring.conf
	rm -rf $(DESTDIR)$(PREFIX)/bin/mooring $(DESTDIR)$(PREFIX)/share/doc/mooring $(DESTDIR)$(PREFIX)/lib/mooring
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mooring $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_mooring \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mooring.fish
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

## make bench: the benchmarks against the kernel's limit and other tools (writes docs/performance.md).
bench: release
	benchmarks/run

## make filter-cost: the guests' filter's cost per frame, with 0, 1 and 500 guests filtered (a section of docs/performance.md).
filter-cost: build
	benchmarks/filter-cost

## make lifecycle-bench: start, boot and stop 4 TCG MicroVMs beside 20 `vmm: none` ones, and mooring's cost per unit
## against systemd-run (a section of docs/performance.md).
lifecycle-bench: release
	scripts/testbed run -- benchmarks/microvm-lifecycle

## make check-link-kind: add a `dummy` link kind to a scratch copy as docs/architecture.md says, and check that the
## compiler names each place the docs list (scripts/check-adding-a-link-kind).
check-link-kind: deps
	scripts/check-adding-a-link-kind

clean:
	rm -rf .build
