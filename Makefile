# The project's commands. See README.md.
.PHONY: run test bench-demo bench-query bench-ingest bench-monitor bench-page bench-upload

# Serve the console with demo data on the embedded SQLite database (https://localhost:8443).
run:
	scripts/run.sh

# Every test: unit, integration (SQLite and PostgreSQL when reachable) and browser tests.
test:
	scripts/test.sh

# Demo-loader throughput on SQLite and PostgreSQL (release build); see docs/PERFORMANCE.md.
bench-demo:
	scripts/bench-demo.sh

# Transaction search, summaries and exports on SQLite (1M rows) and PostgreSQL (10M); see docs/PERFORMANCE.md.
bench-query:
	scripts/bench-query.sh

# The terminal gateway under load (simulator over mutual TLS) and the console's search beside it, on
# SQLite and PostgreSQL; see docs/PERFORMANCE.md.
bench-ingest:
	scripts/bench-ingest.sh

# The realtime monitor: a monitor's memory, and accept-to-monitor latency under the simulator's
# traffic, on SQLite and PostgreSQL; see docs/PERFORMANCE.md.
bench-monitor:
	scripts/bench-monitor.sh

# The console's pages in the browser: time to interactive, cold and cached, on the build `make run`
# serves; see docs/PERFORMANCE.md.
bench-page:
	scripts/bench-page.sh

# Batch fast refunds: 10,000 and 100,000 rows previewed and submitted, on both backends.
bench-upload:
	scripts/bench-upload.sh
