#!/usr/bin/env bash
# The monitoring files against promtool and against the daemon itself:
#
#   scripts/monitoring.sh              # promtool check rules + promtool test rules
#   scripts/monitoring.sh SCRAPE       # and, on a /metrics scrape of a running
#                                      # funneld saved in the file SCRAPE:
#                                      # promtool check metrics, and every metric
#                                      # the rules and the dashboard name is served
#
# The integration test test_observability scrapes a daemon running against
# the mock broker and calls this with its scrape; CI runs both. promtool
# comes with Debian's `prometheus` package (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
rules=monitoring/funneld.rules.yml
tests=monitoring/funneld.rules.test.yml
dashboard=monitoring/grafana-dashboard.json

promtool check rules "$rules"
promtool test rules "$tests"
[ $# -eq 0 ] && exit 0

scrape=$1
echo "promtool check metrics < $scrape"
problems=$(promtool check metrics <"$scrape" 2>&1) || {
	echo "$problems" >&2
	exit 1
}

# every funneld_* / process_* name in the rules and the dashboard is a
# family of the scrape (a histogram's _bucket, _sum and _count count as it)
missing=0
names=$(grep -ohE '\b(funneld|process)_[a-zA-Z0-9_]+' "$rules" "$dashboard" | sort -u)
for n in $names; do
	if grep -q "^# TYPE $n " "$scrape"; then
		continue
	fi
	base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
	if [ "$base" != "$n" ] && grep -q "^# TYPE $base histogram$" "$scrape"; then
		continue
	fi
	echo "monitoring: $n is used by the rules or the dashboard but not served by funneld" >&2
	missing=1
done
[ $missing -eq 0 ] || exit 1
echo "monitoring: $(wc -w <<<"$names") metric names of the rules and the dashboard are all served"
