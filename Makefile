# tillbridge — see README.md. Every target installs what it needs first.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X main.buildVersion=$(VERSION)
BIN := bin/tillbridge
DATA ?= $(CURDIR)/.run
# PKG:FILE — the package counts as present only when FILE exists too
# (scripts/need.sh). Every package a build needs is named explicitly:
# need.sh installs without Recommends, and the C library headers of a
# compiler are only a Recommends. openssh-server: a real sshd for the
# reconciliation SFTP test (recon/fetch).
BUILD_DEPS := gcc:/usr/bin/gcc libc6-dev:/usr/include/stdio.h \
	pkg-config:/usr/bin/pkg-config libusb-1.0-0-dev:/usr/include/libusb-1.0/libusb.h \
	openssh-server:/usr/sbin/sshd
# Test-only: Chromium for the browser tests (console, validate report),
# installed once here rather than by two test packages racing for apt.
TEST_DEPS := chromium:/usr/bin/chromium
CROSS_DEPS := gcc-mingw-w64-x86-64:/usr/bin/x86_64-w64-mingw32-gcc \
	mingw-w64-x86-64-dev:/usr/x86_64-w64-mingw32/include/windows.h \
	gcc-aarch64-linux-gnu:/usr/bin/aarch64-linux-gnu-gcc \
	libc6-dev-arm64-cross:/usr/aarch64-linux-gnu/include/bits/wordsize.h
# Short, bounded variants of the slow suites that make test runs too.
TEST_TIMEOUT ?= 12m

.PHONY: all deps test-deps build run test test-unit test-usb fmt-check vet cross bench soak soak-short fuzz clean validate

all: build

deps:
	@scripts/need.sh $(BUILD_DEPS)

build: deps
	@echo "make: building $(BIN) — the first build downloads the Go modules and compiles SQLite's C code once (a few minutes on 2 cores); later builds take seconds"
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tillbridge

# make run: the daemon on its embedded default — the built-in Alipay sandbox
# gateway and simulated devices — with state kept in ./.run
# RUN_FLAGS adds run flags, e.g. RUN_FLAGS="--ecr-listen 127.0.0.1:7520".
run: build
	$(BIN) run --sandbox --data $(DATA) $(RUN_FLAGS)

# make validate: the full go-live certification run (docs/validation.md) on
# the built-in sandbox — every case unattended, kill -9 on the real binary —
# with the text, JSON and HTML reports in $(VALIDATE_OUT). VALIDATE_FLAGS adds
# flags, e.g. VALIDATE_FLAGS="--real-timings" or "--cases SPOT-001,SPOT-003".
VALIDATE_OUT ?= $(DATA)/validation
validate: build
	$(BIN) validate --out $(VALIDATE_OUT) $(VALIDATE_FLAGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet: deps
	$(GO) vet ./...

test-deps:
	@scripts/need.sh $(TEST_DEPS)

test-unit: deps test-deps
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

# make test: formatting, vet, the race-enabled unit/integration/crash suites,
# then the bounded variants of the slow suites.
test: fmt-check vet test-unit test-usb soak-short

test-usb: deps
	@if [ -x devices/usb/e2e/run.sh ]; then devices/usb/e2e/run.sh; else echo "test-usb: harness not present yet"; fi

soak-short: build
	@if $(BIN) help | grep -q '^  soak '; then $(BIN) soak --short; else echo "soak-short: soak tool not present yet"; fi

soak: build
	$(BIN) soak

fuzz: deps
	@scripts/fuzz.sh 30s

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

# make cross: proves the Windows (mingw-w64 cgo) and linux/arm64 builds.
cross:
	@scripts/need.sh $(CROSS_DEPS)
	@scripts/cc-probe.sh x86_64-w64-mingw32-gcc windows/amd64
	@scripts/cc-probe.sh aarch64-linux-gnu-gcc linux/arm64
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/tillbridge-windows-amd64.exe ./cmd/tillbridge
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc \
		$(GO) build -trimpath -tags nousb -ldflags '$(LDFLAGS)' -o bin/tillbridge-linux-arm64 ./cmd/tillbridge
	@ls -l bin/tillbridge-windows-amd64.exe bin/tillbridge-linux-arm64

clean:
	rm -rf bin .run
