#!/usr/bin/env bash
# A real Apache Kafka cluster (KRaft, no ZooKeeper) on loopback, for tests
# and benchmarks. The brokers are separate JVM processes: they outlive the
# daemon under test and can themselves be killed.
#
#   scripts/kafka.sh start [--brokers N] [--owner PID]
#       installs what it lacks (Java 17, Maven: Debian packages), fetches the
#       broker with Maven from scripts/kafka/pom.xml (pinned version, cached
#       in ~/.cache/funneld so later runs are offline), formats KRaft storage
#       in a fresh directory, starts N combined broker+controller nodes
#       (default 1) on free loopback ports, waits until the cluster answers
#       and prints the bootstrap address (host:port,...) as its last line.
#       With --owner, the cluster is stopped when process PID dies.
#   scripts/kafka.sh stop                stop every node, remove the directory
#   scripts/kafka.sh kill I              kill -9 node I (1..N)
#   scripts/kafka.sh restart I           start node I again (same ports, data)
#   scripts/kafka.sh bootstrap           print the bootstrap address
#   scripts/kafka.sh topics ARGS...      Kafka's TopicCommand (kafka-topics.sh)
#   scripts/kafka.sh java CLASS ARGS...  any class of the broker's classpath
#   scripts/kafka.sh fetch               only install and fetch (CI warm-up)
#
# The cluster's directory is $FUNNELD_KAFKA_DIR when set (the test harness
# gives each test its own), else a new /tmp/funneld-kafka.XXXXXX remembered in
# /tmp/funneld-kafka.last for the commands that follow. Settings are sized for
# a 2-core test machine: 4 partitions for the internal topics, replication
# min(N, 3), no initial rebalance delay, session timeouts down to 1 s (the
# kill -9 tests shorten them; Kafka's own floor is 6 s), small heaps.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pom="$here/kafka/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/funneld/kafka-$version"
last=/tmp/funneld-kafka.last

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

install_packages() {
	local missing=()
	command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
	command -v mvn >/dev/null 2>&1 || missing+=(maven)
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq >&2
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

fetch() {
	[ -f "$cache/ok" ] && return 0
	install_packages
	say "fetching Apache Kafka $version with Maven into $cache"
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp"
	mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
		-DoutputDirectory="$cache.tmp/lib" >&2 || die "maven could not fetch the broker"
	cat >"$cache.tmp/log4j2.properties" <<-'EOF'
	rootLogger.level = INFO
	rootLogger.appenderRef.file.ref = FILE
	appender.file.type = File
	appender.file.name = FILE
	appender.file.fileName = ${sys:kafka.logs.dir}/server.log
	appender.file.layout.type = PatternLayout
	appender.file.layout.pattern = [%d] %p %m (%c)%n
	logger.cleaner.name = kafka.log.LogCleaner
	logger.cleaner.level = INFO
	logger.request.name = kafka.request.logger
	logger.request.level = WARN
	EOF
	touch "$cache.tmp/ok"
	rm -rf "$cache"
	mv "$cache.tmp" "$cache"
}

# Is process $1 running? A killed process whose parent has not reaped it yet
# (a zombie) answers kill -0 but is gone.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

java_run() { # CLASS ARGS...
	java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-Dlog4j2.configurationFile="$cache/log4j2.properties" -Dkafka.logs.dir="${KAFKA_LOG_DIR:-/tmp}" \
		-cp "$cache/lib/*" "$@"
}

cluster_dir() {
	if [ -n "${FUNNELD_KAFKA_DIR:-}" ]; then
		echo "$FUNNELD_KAFKA_DIR"
	elif [ -f "$last" ]; then
		cat "$last"
	else
		die "no cluster: run 'scripts/kafka.sh start' first (or set FUNNELD_KAFKA_DIR)"
	fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Below the kernel's ephemeral range (ip_local_port_range, 32768.. by
# default), so no outgoing connection can hold the port between our check
# and the broker's bind.
free_port() {
	local p lo=32768
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$lo" -gt 11000 ] || lo=32768
	for _ in $(seq 1 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if port_free "$p" && ! grep -qs "=$p\$" "$dir"/ports 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free loopback port found"
}

start_node() { # I
	local i=$1 node="$dir/node$1"
	KAFKA_LOG_DIR="$node" nohup java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-Djava.awt.headless=true -Dlog4j2.configurationFile="$cache/log4j2.properties" \
		-Dkafka.logs.dir="$node" -cp "$cache/lib/*" kafka.Kafka "$node/server.properties" \
		>"$node/stdout.log" 2>&1 </dev/null &
	echo $! >"$node/pid"
}

wait_started() { # I...
	local deadline=$((SECONDS + 90)) i
	for i in "$@"; do
		until grep -qs 'Kafka Server started' "$dir/node$i/server.log"; do
			if ! alive "$(cat "$dir/node$i/pid")"; then
				tail -n 30 "$dir/node$i/stdout.log" "$dir/node$i/server.log" >&2 || true
				die "node $i exited during start-up (logs in $dir/node$i)"
			fi
			[ $SECONDS -lt $deadline ] || die "node $i not started after 90 s (logs in $dir/node$i)"
			sleep 0.2
		done
	done
}

bootstrap() { paste -sd, "$dir/bootstrap"; }

cmd_start() {
	local n=1 owner=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--brokers) n=$2; shift 2 ;;
		--owner) owner=$2; shift 2 ;;
		*) die "start: unknown option $1" ;;
		esac
	done
	[[ "$n" =~ ^[1-9]$ ]] || die "start: --brokers takes 1..9"
	fetch
	if [ -n "${FUNNELD_KAFKA_DIR:-}" ]; then
		dir=$FUNNELD_KAFKA_DIR
		local pidfile
		for pidfile in "$dir"/node*/pid; do
			[ -f "$pidfile" ] && alive "$(cat "$pidfile")" &&
				die "a cluster already runs in $dir (stop it first)"
		done
		rm -rf "$dir"
		mkdir -p "$dir"
	else
		dir=$(mktemp -d /tmp/funneld-kafka.XXXXXX)
		echo "$dir" >"$last"
	fi
	: >"$dir/ports"
	local i voters="" rf=$((n < 3 ? n : 3)) isr=$((n < 3 ? 1 : 2))
	for i in $(seq 1 "$n"); do
		local p c
		p=$(free_port); echo "broker$i=$p" >>"$dir/ports"
		c=$(free_port); echo "controller$i=$c" >>"$dir/ports"
		voters+="${voters:+,}$i@127.0.0.1:$c"
	done
	: >"$dir/bootstrap"
	for i in $(seq 1 "$n"); do
		local node="$dir/node$i" p c
		p=$(sed -n "s/^broker$i=//p" "$dir/ports")
		c=$(sed -n "s/^controller$i=//p" "$dir/ports")
		mkdir -p "$node/data"
		echo "127.0.0.1:$p" >>"$dir/bootstrap"
		cat >"$node/server.properties" <<-EOF
		process.roles=broker,controller
		node.id=$i
		controller.quorum.voters=$voters
		listeners=PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$c
		advertised.listeners=PLAINTEXT://127.0.0.1:$p
		controller.listener.names=CONTROLLER
		inter.broker.listener.name=PLAINTEXT
		listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
		log.dirs=$node/data
		num.partitions=1
		default.replication.factor=$rf
		min.insync.replicas=1
		offsets.topic.replication.factor=$rf
		offsets.topic.num.partitions=4
		transaction.state.log.replication.factor=$rf
		transaction.state.log.min.isr=$isr
		transaction.state.log.num.partitions=4
		share.coordinator.state.topic.replication.factor=$rf
		share.coordinator.state.topic.min.isr=1
		group.initial.rebalance.delay.ms=0
		group.min.session.timeout.ms=1000
		auto.create.topics.enable=false
		num.network.threads=2
		num.io.threads=2
		background.threads=2
		num.replica.fetchers=1
		log.cleaner.threads=1
		log.cleaner.dedupe.buffer.size=16777216
		log.cleaner.backoff.ms=1000
		log.retention.check.interval.ms=5000
		EOF
	done
	local cluster_id
	cluster_id=$(KAFKA_LOG_DIR="$dir" java_run kafka.tools.StorageTool random-uuid | tail -n 1)
	for i in $(seq 1 "$n"); do
		KAFKA_LOG_DIR="$dir/node$i" java_run kafka.tools.StorageTool format --ignore-formatted \
			--cluster-id "$cluster_id" --config "$dir/node$i/server.properties" >"$dir/node$i/format.log" 2>&1 ||
			{ cat "$dir/node$i/format.log" >&2; die "formatting node $i failed"; }
	done
	for i in $(seq 1 "$n"); do start_node "$i"; done
	if ! (wait_started $(seq 1 "$n")); then
		if grep -qs 'Address already in use' "$dir"/node*/server.log && [ "${attempt:-1}" -lt 3 ]; then
			say "a port was taken meanwhile: starting again on other ports"
			FUNNELD_KAFKA_DIR="$dir" cmd_stop
			attempt=$(( ${attempt:-1} + 1 )) cmd_start --brokers "$n" ${owner:+--owner "$owner"}
			return
		fi
		die "the cluster did not start (logs in $dir)"
	fi
	if [ -n "$owner" ]; then
		# stop the cluster when the owner dies (a crashed test cleans up too);
		# only this cluster: once it was stopped, the directory may already
		# hold the next one (a test run again at once), which is not ours
		echo "$cluster_id" >"$dir/cluster"
		setsid bash -c 'ours() { [ "$(cat "$2/cluster" 2>/dev/null)" = "$4" ] && [ -f "$2/bootstrap" ]; }
			while kill -0 "$1" 2>/dev/null && ours "$@"; do sleep 1; done
			if ours "$@"; then FUNNELD_KAFKA_DIR="$2" "$3" stop >/dev/null 2>&1; fi' \
			_ "$owner" "$dir" "$0" "$cluster_id" </dev/null >/dev/null 2>&1 &
	fi
	say "$n node(s) in $dir"
	bootstrap
}

node_pid() { cat "$dir/node$1/pid" 2>/dev/null || true; }

cmd_stop() {
	dir=$(cluster_dir)
	[ -d "$dir" ] || return 0
	local i pid
	for i in $(ls -d "$dir"/node* 2>/dev/null | sed 's/.*node//'); do
		pid=$(node_pid "$i")
		[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	done
	for i in $(ls -d "$dir"/node* 2>/dev/null | sed 's/.*node//'); do
		pid=$(node_pid "$i")
		[ -n "$pid" ] || continue
		for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		while alive "$pid"; do sleep 0.05; done
	done
	rm -f "$dir/bootstrap"
	if [ -z "${FUNNELD_KAFKA_DIR:-}" ]; then
		rm -rf "$dir"
		rm -f "$last"
	fi
}

cmd_kill() {
	dir=$(cluster_dir)
	local pid
	pid=$(node_pid "$1")
	[ -n "$pid" ] || die "kill: no node $1 in $dir"
	kill -9 "$pid" 2>/dev/null || true
	while alive "$pid"; do sleep 0.05; done
}

cmd_restart() {
	dir=$(cluster_dir)
	[ -f "$dir/node$1/server.properties" ] || die "restart: no node $1 in $dir"
	local pid
	pid=$(node_pid "$1")
	if [ -n "$pid" ] && alive "$pid"; then die "restart: node $1 is running"; fi
	mv "$dir/node$1/server.log" "$dir/node$1/server.log.$(date +%s%N)" 2>/dev/null || true
	fetch
	start_node "$1"
	wait_started "$1"
}

case "${1:-}" in
start) shift; cmd_start "$@" ;;
stop) cmd_stop ;;
kill) [ $# -eq 2 ] || die "usage: kill I"; cmd_kill "$2" ;;
restart) [ $# -eq 2 ] || die "usage: restart I"; cmd_restart "$2" ;;
bootstrap) dir=$(cluster_dir); bootstrap ;;
topics) shift; fetch; java_run org.apache.kafka.tools.TopicCommand "$@" ;;
java) shift; fetch; java_run "$@" ;;
fetch) fetch ;;
*) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
