# actord's build and test entry points. `make test` is what CI runs
# (.ci/run); it installs the Debian clients the interop tests talk to.

GO ?= go

.PHONY: test build fmt deps run

# deps installs the real Kafka clients the interop tests use: kcat
# (librdkafka) and Debian's python3-kafka (for Debian's own /usr/bin/python3).
deps:
	command -v kcat >/dev/null || (apt-get update && apt-get install -y kcat)
	/usr/bin/python3 -c 'import kafka' 2>/dev/null || (apt-get update && apt-get install -y python3-kafka)

test: deps
	$(GO) vet ./...
	$(GO) test -race -timeout 10m ./...

build:
	$(GO) build -o bin/actord ./cmd/actord

# fmt fails listing the files gofmt would change.
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# run is the one-command demo on the embedded broker (Ctrl-C to stop).
run:
	$(GO) run ./examples/quickstart
