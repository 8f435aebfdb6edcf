# actord's build and test entry points. `make test` is what CI runs
# (.ci/run); it installs the Debian clients the interop tests talk to.

GO ?= go

.PHONY: test build fmt deps run bench bench-peers test-long screenshot

# deps installs the real Kafka clients the interop tests use: kcat
# (librdkafka), Debian's python3-kafka, and python3-confluent-kafka with
# python3-avro and python3-requests (its AvroProducer and AvroConsumer, the
# Schema Registry interop), all for Debian's own /usr/bin/python3.
deps:
	command -v kcat >/dev/null || (apt-get update && apt-get install -y kcat)
	/usr/bin/python3 -c 'import kafka' 2>/dev/null || (apt-get update && apt-get install -y python3-kafka)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	/usr/bin/python3 -c 'import confluent_kafka.avro, avro, requests' 2>/dev/null || (apt-get update && apt-get install -y python3-confluent-kafka python3-avro python3-requests)

test: deps fmt
	$(GO) vet ./...
	$(GO) test -race -timeout 10m ./...
	# A count, not a duration: Go 1.26's fuzz coordinator can report a
	# spurious "context deadline exceeded" as a duration -fuzztime ends
	# (golang/go#75804, fixed in Go 1.27); 10–20 s on 2 cores.
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 40000x

build:
	$(GO) build -o bin/actord ./cmd/actord

# fmt fails listing the files gofmt would change.
fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# run is the one-command demo on the embedded broker (Ctrl-C to stop). It
# prints the status console's URL (with the token of its actions).
run:
	$(GO) build -o bin/quickstart ./examples/quickstart
	./bin/quickstart

# screenshot writes docs/console.png: the console under the quickstart, in
# headless Chromium at 1280x800 (TestQuickstartConsole).
screenshot: deps
	ACTORD_CONSOLE_SCREENSHOT=$(CURDIR)/docs/console.png $(GO) test -count=1 -run '^TestQuickstartConsole$$' ./examples/quickstart/

# bench measures actord against raw franz-go on the embedded broker, both
# sides in one process run (a few minutes on 2 cores; not part of test):
# the Go benchmarks of the hot paths (saved to bench/gobench.txt, benchstat
# input), then the side-by-side scenarios, which print a table each and
# write bench/RESULTS.md. BENCHFLAGS=-short cuts the scenarios' record
# counts for a quick run.
BENCHTIME ?= 200000x
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 20m ./partition/ ./schema/ ./bench/ > bench/gobench.txt || { cat bench/gobench.txt; exit 1; }
	@cat bench/gobench.txt
	$(GO) run ./bench/cmd/report -gobench bench/gobench.txt -out bench/RESULTS.md $(BENCHFLAGS)

# bench-peers puts actord beside the other Go Kafka consumers: raw
# franz-go, actord (partition and key mode), sarama, kafka-go,
# confluent-kafka-go (librdkafka, cgo) and Watermill each consume the same
# 1,000,000 records of 100 B from one `actord broker` process, each in a
# child process under a fresh group, 5 rounds; it writes the table into
# bench/RESULTS.md's PEERS section (after make bench's). bench/peers is a
# module of its own, so actord's users never inherit these clients
# (PEERSFLAGS: e.g. -rounds 5, -n 200000, -sides sarama,raw).
bench-peers:
	cd bench/peers && $(GO) run . -root ../.. -out ../RESULTS.md $(PEERSFLAGS)

# test-long runs the reliability suite's long variants (ACTORD_LONG=1):
# 100,000 records through the crash and churn scenarios, six broker
# restarts (each scenario prints one `scenario=... sent= handled= lost=
# duplicated=` line; docs/reliability.md keeps the last run's figures),
# then FUZZTIME of fuzzing for each fuzz target of config loading, record
# decoding (JSON, Avro, dead-letter headers, package dlq's Parse) and the command line's value
# parsing.
FUZZTIME ?= 30s
test-long:
	ACTORD_LONG=1 $(GO) test -race -count=1 -timeout 30m -v -run . ./reliability/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./schema/
	$(GO) test -run '^$$' -fuzz '^FuzzJSONDecode$$' -fuzztime $(FUZZTIME) ./actors/
	$(GO) test -run '^$$' -fuzz '^FuzzDeadLetterRecord$$' -fuzztime $(FUZZTIME) ./actors/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./dlq/
	$(GO) test -run '^$$' -fuzz '^FuzzParseHeaders$$' -fuzztime $(FUZZTIME) ./cli/
	$(GO) test -run '^$$' -fuzz '^FuzzParseTopicConfigs$$' -fuzztime $(FUZZTIME) ./cli/
