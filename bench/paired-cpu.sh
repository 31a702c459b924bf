#!/usr/bin/env bash
# CPU per proxied request, gateway-plain against bare-undici, measured in pairs: both pinned to
# CPU 1 and loaded at the same time by two wrk processes pinned to CPU 0 (the upstream too), so
# both see the same machine even when its speed changes from one second to the next.
# Usage: bash bench/paired-cpu.sh [rounds (12)] [seconds per round (3)]   (after `npm run build`;
# needs wrk, taskset and 2 cores). Prints each round and the median ratio gateway / bare-undici.
# COMPARE=cluster bash bench/paired-cpu.sh pairs gateway-plain in one process (the baseline)
# against the same route in cluster mode (WORKERS=2: the primary and both workers counted).
set -euo pipefail
ROUNDS=${1:-12}
SECONDS_PER_ROUND=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for tool in wrk taskset curl; do command -v $tool >/dev/null || { echo "$tool is needed (apt-get install -y wrk util-linux)"; exit 1; }; done

COMPARE=${COMPARE:-bare-undici}
PORT_BASE=${PORT_BASE:-19001}
UP=$PORT_BASE BARE=$((PORT_BASE + 1)) GW=$((PORT_BASE + 2))
taskset -c 0 node "$ROOT/bench/upstream.js" $UP >/dev/null & PIDS+=($!)
# The gateway-plain route, in one process or with WORKERS workers; $1 port, $2 workers, $3 log name.
start_gateway() {
  (cd "$WORK" && PORT=$1 WORKERS=$2 BENCH_UPSTREAM_1=http://127.0.0.1:$UP MONITORING__LOG_REQUESTS=true LOG_LEVEL=info \
    exec taskset -c 1 node "$ROOT/dist/cli/index.js" start --config "$ROOT/bench/configs/gateway-plain.yaml" > "$WORK/$3.log" 2>&1) &
}
if [ "$COMPARE" = cluster ]; then
  BASE_NAME=gateway-plain NEW_NAME=gateway-cluster
  start_gateway $BARE 1 baseline; PIDS+=($!); BARE_PID=$!
  start_gateway $GW 2 gateway; PIDS+=($!); GW_PID=$!
else
  BASE_NAME=bare-undici NEW_NAME=gateway-plain
  taskset -c 1 node "$ROOT/bench/bare-undici.js" $BARE http://127.0.0.1:$UP >/dev/null & PIDS+=($!); BARE_PID=$!
  start_gateway $GW 1 gateway; PIDS+=($!); GW_PID=$!
fi
# Both answer before the first round (a cluster's workers take a moment to start).
for port in $BARE $GW; do
  for _ in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$port/samples/x" && break; sleep 0.2; done
done
sleep 1

TICKS=$(getconf CLK_TCK)
# CPU of a process and its children (a cluster's workers are the primary's children).
cpu_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo $total
}
# One round: both loaded at once; prints "bare-µs gateway-µs" of CPU per request.
round() {
  local b0 g0 b1 g1 rb rg wrk_pid
  b0=$(cpu_ticks $BARE_PID); g0=$(cpu_ticks $GW_PID)
  taskset -c 0 wrk -t1 -c64 -d"$1"s http://127.0.0.1:$BARE/samples/x > "$WORK/bare.txt" & wrk_pid=$!
  taskset -c 0 wrk -t1 -c64 -d"$1"s http://127.0.0.1:$GW/samples/x > "$WORK/gw.txt"
  wait $wrk_pid
  b1=$(cpu_ticks $BARE_PID); g1=$(cpu_ticks $GW_PID)
  rb=$(awk '/requests in/{print $1}' "$WORK/bare.txt"); rg=$(awk '/requests in/{print $1}' "$WORK/gw.txt")
  awk -v b=$((b1 - b0)) -v g=$((g1 - g0)) -v rb="$rb" -v rg="$rg" -v t="$TICKS" 'BEGIN { printf "%.1f %.1f\n", b * 1e6 / t / rb, g * 1e6 / t / rg }'
}
round 3 >/dev/null # warm-up
printf "round  %18s  %20s  ratio\n" "$BASE_NAME µs/req" "$NEW_NAME µs/req"
for i in $(seq "$ROUNDS"); do
  read -r b g < <(round "$SECONDS_PER_ROUND")
  echo "$b $g" >> "$WORK/rounds"
  awk -v i="$i" -v b="$b" -v g="$g" 'BEGIN { printf "%5d  %18s  %20s  %.3f\n", i, b, g, g / b }'
done
MEDIAN=$(awk '{ printf "%.3f\n", $2 / $1 }' "$WORK/rounds" | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }')
awk -v m="$MEDIAN" -v n="$ROUNDS" -v nn="$NEW_NAME" -v bn="$BASE_NAME" 'BEGIN { printf "median CPU per request, %s / %s: %.3f× (%d rounds; a throughput ratio of %.2f× where the proxy is the bottleneck)\n", nn, bn, m, n, 1 / m }'
