#!/usr/bin/env bash
# compare.sh: ringtable side by side with the ideal quorum round (bench/ceiling)
# and with etcd, in one run on one machine, in the reference shape (N=3, R=2,
# W=2, durable acks, 1 KiB values, 64 concurrent clients); then how
# throughput and p99 grow with value size, concurrency and storage nodes.
#
#   bench/compare.sh [--quick] [--duration 20s] [--runs 3] [--keys 20000]
#                    [--profile] [--no-etcd] [--ringtable BIN] [--out DIR]
#
#   --quick      a smoke run of the harness itself (2s cases, 1 run, 1000 keys)
#   --profile    save a CPU profile of ringtable during the first write run
#   --ringtable  use this ringtable binary instead of building ./cmd/ringtable
#   --out        results directory (default bench/results/<date>-<time>)
#
# The main comparison is measured --runs times (medians are reported), the
# growth sweeps once. The p99 target's load (writes open loop at half the
# max rate) is also put on the ideal round, at half its own max and at
# ringtable's rate, and on etcd at half its own max, for scale; and the
# ideal round is served over HTTP and loaded by `ringtable bench`, to show
# what HTTP and an outside load generator leave of it in any design. Every
# row goes to DIR/results.csv (the columns of `ringtable bench --csv`), the
# report to DIR/summary.md, each tool's output to DIR/logs/, and each
# open-loop run's request latencies to
# DIR/logs/ringtable-rate-runN.latency.csv (due time and latency in ms, to
# tell a steady tail from stalls). Every process it starts is stopped when
# it exits.
set -euo pipefail

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUICK=0 DURATION="" RUNS="" KEYS="" PROFILE=0 NO_ETCD=0 RT_BIN="" OUT="" RT_HALF=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1 ;;
    --duration) DURATION=${2:?--duration needs a value}; shift ;;
    --runs) RUNS=${2:?--runs needs a value}; shift ;;
    --keys) KEYS=${2:?--keys needs a value}; shift ;;
    --profile) PROFILE=1 ;;
    --no-etcd) NO_ETCD=1 ;;
    --ringtable) RT_BIN=${2:?--ringtable needs a path}; shift ;;
    --out) OUT=${2:?--out needs a directory}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage 2 >&2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  DURATION=${DURATION:-2s} KEYS=${KEYS:-1000} RUNS=${RUNS:-1}
  VALUE_SIZES=(100 65536) CONCURRENCIES=(1 256)
else
  DURATION=${DURATION:-20s} KEYS=${KEYS:-20000} RUNS=${RUNS:-3}
  VALUE_SIZES=(100 4096 16384 65536) CONCURRENCIES=(1 4 16 256)
fi
# (1 KiB values and 64 clients, the reference shape, join both sweeps from
# the main comparison.)
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --runs must be a positive integer" >&2; exit 2; }
[[ $DURATION =~ ^([0-9]+h)?([0-9]+m)?([0-9]+s)?$ && -n $DURATION ]] ||
  { echo "compare.sh: --duration must look like 20s, 2m or 1m30s" >&2; exit 2; }
seconds() { # a duration like 1m30s in whole seconds
  local d=$1 s=0
  [[ $d =~ ([0-9]+)h ]] && s=$((s + BASH_REMATCH[1] * 3600))
  [[ $d =~ ([0-9]+)m ]] && s=$((s + BASH_REMATCH[1] * 60))
  [[ $d =~ ([0-9]+)s ]] && s=$((s + BASH_REMATCH[1]))
  echo "$s"
}
OUT=${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/results.csv NOTES=$OUT/notes.txt LOGS=$OUT/logs
rm -rf "$LOGS" "$CSV" "$OUT"/cpu-ringtable-write.* "$OUT/summary.md" "$OUT/header.md"
mkdir -p "$LOGS"
: >"$NOTES"

say() { printf '\n== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
note() { echo "$*" >>"$NOTES"; echo "NOTE: $*"; }
die() { echo "compare.sh: $*" >&2; exit 1; }

# --- processes and cleanup ---------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringtable-compare.XXXXXX")
PIDS=()
stop_pid() { # stop one process we started: TERM, then KILL after 15s
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
forget_pid() { local p keep=(); for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done; PIDS=("${keep[@]}"); }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done # the newest first
  rm -rf "$WORK"
  [[ $rc == 0 ]] || echo "compare.sh: stopped (exit $rc); logs in $LOGS" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

declare -A TAKEN_PORTS
free_port() { # free_port VAR: a loopback port nobody listens on, below the ephemeral range
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    [[ -z ${TAKEN_PORTS[$p]:-} ]] || continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      TAKEN_PORTS[$p]=1
      printf -v "$1" '%s' "$p"
      return
    fi
  done
  die "no free loopback port found"
}

wait_http() { # wait_http URL PID SECONDS LOG: until URL answers 2xx or PID dies
  local url=$1 pid=$2 secs=$3 log=$4
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; die "process $pid died while starting (log: $log)"; }
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  tail -20 "$log" >&2
  die "$url did not answer within ${secs}s (log: $log)"
}

# run_once NAME CMD...: one measurement, its output to the terminal and to
# logs/NAME.log. It runs in the background so that an interrupt stops the
# script at once (the wait builtin returns on a trapped signal) and cleanup
# stops the measurement with the rest.
run_once() {
  local name=$1 pid rc=0; shift
  echo "-- $name"
  "$@" > >(tee -a "$LOGS/$name.log") 2>>"$LOGS/$name.log" &
  pid=$!; PIDS+=("$pid")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  return "$rc"
}
# why NAME: the last words of a failed measurement.
why() { grep -v -e '^[+|]' -e '^[[:space:]]*$' "$LOGS/$1.log" | tail -2 | tr '\n' ' '; }

# run_case NAME CMD...: a measurement, tried twice; a failure is noted and
# the comparison goes on.
run_case() {
  local name=$1
  run_once "$@" && return 0
  echo "$name failed: $(why "$name"); trying once more"
  if run_once "$@"; then
    note "$name: the first try failed, the second passed (log: logs/$name.log)"
    return 0
  fi
  note "$name failed twice: $(why "$name")(log: logs/$name.log)"
  return 1
}

# --- build -------------------------------------------------------------------

command -v curl >/dev/null || die "curl is needed (apt-get install -y curl)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# cpu_busy SECONDS: the percentage of the machine's CPU time that was not
# idle over the next SECONDS (from /proc/stat).
cpu_busy() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); t = (y[1] - x[1]) + (y[2] - x[2]); if (t <= 0) exit 1; printf "%d\n", 100 * (y[1] - x[1]) / t }'
}
say "building into $WORK/bin"
BIN=$WORK/bin
mkdir -p "$BIN"
(cd "$ROOT" && for p in ceiling rateload summarize; do go build -o "$BIN/$p" "./bench/$p"; done) ||
  die "building bench/ failed"
# The ideal round runs with the processors ringtable's dev and nodes
# take by default (twice the runtime's), so that the ratios do not credit
# ringtable with a setting of the Go runtime: its replicas block in syncs
# as the nodes do. etcd and the load generators keep the runtime's default.
PROCS=$((2 * $(nproc)))
CEILING=(env "GOMAXPROCS=$PROCS" "$BIN/ceiling")
if [[ $NO_ETCD == 0 ]] && ! (cd "$ROOT" && go build -o "$BIN/etcdload" ./bench/etcdload) 2>"$LOGS/build-etcdload.log"; then
  cat "$LOGS/build-etcdload.log" >&2
  note "etcd: not run: bench/etcdload did not build (is go.etcd.io/etcd/client/v3 in go.mod? log: logs/build-etcdload.log)"
  NO_ETCD=2
fi
if [[ -n $RT_BIN ]]; then
  cp "$RT_BIN" "$BIN/ringtable" || die "--ringtable $RT_BIN: cannot copy"
else
  (cd "$ROOT" && go build -o "$BIN/ringtable" ./cmd/ringtable) ||
    die "building cmd/ringtable failed (pass a built binary with --ringtable BIN)"
fi
RT=$BIN/ringtable

# --- ringtable dev -----------------------------------------------------------

# start_dev NAME NODES [DEBUG]: sets DEV_PID, DEV_URL, DEV_KEY, DEV_DEBUG.
start_dev() {
  local name=$1 nodes=$2 debug=${3:-} http nats dport args=()
  local dir=$WORK/$name log=$LOGS/dev-$name.log
  free_port http; free_port nats
  args=(dev --data-dir "$dir" --http "127.0.0.1:$http" --nats-listen "127.0.0.1:$nats" --nodes "$nodes" --log-level warn)
  DEV_DEBUG=""
  if [[ -n $debug ]]; then free_port dport; DEV_DEBUG=127.0.0.1:$dport; args+=(--debug-addr "$DEV_DEBUG"); fi
  "$RT" "${args[@]}" >"$log" 2>&1 &
  DEV_PID=$!; PIDS+=("$DEV_PID")
  DEV_URL=http://127.0.0.1:$http
  wait_http "$DEV_URL/healthz" "$DEV_PID" 60 "$log"
  for _ in $(seq 100); do [[ -s $dir/dev.key ]] && break; sleep 0.1; done
  [[ -s $dir/dev.key ]] || die "ringtable dev wrote no $dir/dev.key (log: $log)"
  DEV_KEY=$(<"$dir/dev.key")
  echo "ringtable dev ($nodes nodes) at $DEV_URL${DEV_DEBUG:+, pprof at $DEV_DEBUG}"
}
stop_dev() { stop_pid "$DEV_PID"; forget_pid "$DEV_PID"; rm -rf "${WORK:?}/$1"; }

# rt_bench LABEL TABLE ARGS...: one `ringtable bench` case against the running
# dev. Cases get tables of their own: a bench process writes a key blind (no
# context) the first time, which would add a sibling to every key that an
# earlier case wrote, and hot zipf keys gather siblings. A failed case is
# tried once more on a fresh table; TABLE_OF[TABLE] is the table it used.
declare -A TABLE_OF
rt_bench() {
  local label=$1 table=$2; shift 2
  local name=$label${RUN_TAG:-}
  local cmd=("$RT" bench --gateway "$DEV_URL" --api-key "$DEV_KEY" --duration "$DURATION" --keys "$KEYS"
    --csv "$CSV" --label "$label" "$@")
  TABLE_OF[$table]=$table
  run_once "$name" "${cmd[@]}" --table "$table" && return 0
  echo "$name failed: $(why "$name"); trying once more on a fresh table"
  TABLE_OF[$table]=$table-again
  if run_once "$name" "${cmd[@]}" --table "$table-again"; then
    note "$name: the first try failed, the second (on a fresh table) passed (log: logs/$name.log)"
    return 0
  fi
  note "$name failed twice: $(why "$name")(log: logs/$name.log)"
  return 1
}

# last_rate LABEL OP: the ops/s of the newest CSV row of that case.
last_rate() { awk -F, -v l="$1" -v o="$2" '$2 == l && $3 == o { r = $9 } END { print r + 0 }' "$CSV" 2>/dev/null || echo 0; }

ringtable_cases() { # the reference-shape cases on one fresh dev
  local run=$1 profile_pid=""
  start_dev "main$run" 3 "$([[ $PROFILE == 1 && $run == 1 ]] && echo debug)"
  if [[ -n $DEV_DEBUG ]]; then
    local secs=$(($(seconds "$DURATION") - 1)); ((secs >= 1)) || secs=1
    curl -fsS -o "$OUT/cpu-ringtable-write.pprof" "http://$DEV_DEBUG/debug/pprof/profile?seconds=$secs" 2>>"$LOGS/profile.log" &
    profile_pid=$!
  fi
  rt_bench ringtable-w-uniform w-uniform --read-ratio 0 --dist uniform || true
  if [[ -n $profile_pid ]]; then
    if wait "$profile_pid"; then
      go tool pprof -top -nodecount 40 "$RT" "$OUT/cpu-ringtable-write.pprof" >"$OUT/cpu-ringtable-write.top.txt" 2>/dev/null || true
      echo "CPU profile of the write run: $OUT/cpu-ringtable-write.pprof (go tool pprof -http :0 $OUT/cpu-ringtable-write.pprof)"
    else
      note "the CPU profile could not be fetched (log: logs/profile.log)"
    fi
  fi
  rt_bench ringtable-w-zipf w-zipf --read-ratio 0 --dist zipf || true
  # Reads share one preloaded table, the read/update mixes another (the
  # zipf mix learns each key's context on its first read or write of it).
  rt_bench ringtable-r-uniform r --read-ratio 1 --dist uniform || true # preloads every key
  rt_bench ringtable-r-zipf "${TABLE_OF[r]}" --read-ratio 1 --dist zipf --preload=false || true
  rt_bench ringtable-rw-uniform rw --read-ratio 0.5 --dist uniform || true # preloads every key
  rt_bench ringtable-rw-zipf "${TABLE_OF[rw]}" --read-ratio 0.5 --dist zipf --preload=false || true
  local max rate
  max=$(last_rate ringtable-w-uniform write)
  rate=$(awk -v m="$max" 'BEGIN { printf "%d", m / 2 }')
  if ((rate > 0)); then
    RT_HALF=$rate
    echo "open-loop PUTs at $rate/s, half of this run's $max writes/s"
    run_case "ringtable-rate${RUN_TAG:-}" "$BIN/rateload" --gateway "$DEV_URL" --api-key "$DEV_KEY" --rate "$rate" --table rate \
      --duration "$DURATION" --keys "$KEYS" --csv "$CSV" --label ringtable-rate \
      --latency-log "$LOGS/ringtable-rate${RUN_TAG:-}.latency.csv" || true
  else
    note "run $run: no write rate measured, so no run at half of it"
  fi
  stop_dev "main$run"
}

# ceiling_http_cases: the ideal round served over HTTP (bench/ceiling
# --http) and loaded by `ringtable bench` as dev is, writes then reads of
# a preloaded table: what HTTP and a load generator in a process of its
# own leave of the ideal round, whatever the design.
ceiling_http_cases() {
  local port pid log=$LOGS/ceiling-http-server${RUN_TAG:-}.log
  free_port port
  "${CEILING[@]}" --http "127.0.0.1:$port" --dir "$WORK/ceiling" >"$log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/healthz" "$pid" 60 "$log"
  DEV_URL=http://127.0.0.1:$port DEV_KEY=none rt_bench ceiling-http hw --read-ratio 0 || true
  DEV_URL=http://127.0.0.1:$port DEV_KEY=none rt_bench ceiling-http hr --read-ratio 1 || true # preloads every key
  stop_pid "$pid"; forget_pid "$pid"
  rm -rf "${WORK:?}/ceiling"
}

# --- etcd --------------------------------------------------------------------

ETCD_OK=0
ensure_etcd() {
  case $NO_ETCD in
    1) note "etcd: not run (--no-etcd)"; return ;;
    2) return ;;
  esac
  if ! command -v etcd >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      echo "installing Debian's etcd-server (apt-get install -y etcd-server)..."
      if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server ||
             { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server; }; } >"$LOGS/etcd-install.log" 2>&1; then
        note "etcd: not run: apt-get install etcd-server failed (log: logs/etcd-install.log)"
        return
      fi
    else
      note "etcd: not run: no etcd binary, and apt-get as root is not available to install etcd-server"
      return
    fi
  fi
  command -v etcd >/dev/null || { note "etcd: not run: etcd-server installed no etcd binary"; return; }
  ETCD_OK=1
  ETCD_VERSION=$(etcd --version 2>/dev/null | sed -n "s/^etcd Version: /etcd /p")
}

ETCD_PIDS=()
start_etcd() { # start_etcd NAME: three members on loopback; sets ETCD_ENDPOINTS
  local name=$1 i cluster="" clients=() peers=()
  for i in 1 2 3; do
    free_port "clients[$i]"; free_port "peers[$i]"
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${peers[$i]}"
  done
  ETCD_PIDS=() ETCD_ENDPOINTS=""
  for i in 1 2 3; do
    etcd --name "m$i" --data-dir "$WORK/$name/m$i" \
      --listen-client-urls "http://127.0.0.1:${clients[$i]}" --advertise-client-urls "http://127.0.0.1:${clients[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${peers[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peers[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "compare-$name" \
      --logger zap --log-level warn >"$LOGS/etcd-$name-m$i.log" 2>&1 &
    ETCD_PIDS+=($!); PIDS+=($!)
    ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}127.0.0.1:${clients[$i]}"
  done
  for i in 1 2 3; do
    wait_http "http://127.0.0.1:${clients[$i]}/health" "${ETCD_PIDS[$((i - 1))]}" 60 "$LOGS/etcd-$name-m$i.log"
  done
  echo "etcd ($ETCD_VERSION) members at $ETCD_ENDPOINTS"
}
stop_etcd() { local p; for p in "${ETCD_PIDS[@]}"; do stop_pid "$p"; forget_pid "$p"; done; rm -rf "${WORK:?}/$1"; }

# --- the comparison ----------------------------------------------------------

ensure_etcd
# Other work on the machine takes the cores every case here shares. The
# load average would count the harness's own build, so what is checked is
# how busy the CPUs are over a few seconds once it is done.
if busy=$(cpu_busy 3) && ((busy > 25)); then
  note "the CPUs were ${busy}% busy just before the first case: something else is running, and every figure will be lower for it"
fi
THP=$(grep -o '\[[a-z]*\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null | tr -d '[]' || true)
{
  echo "# ringtable comparison, $(date -u +'%Y-%m-%d %H:%M UTC')"
  echo
  echo "- settings: $RUNS run(s) of $DURATION per case$([[ $QUICK == 1 ]] && echo ' (--quick)'), $KEYS keys, medians over the runs; sweeps measured once"
  echo "- machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(go version | cut -d' ' -f3-4); load average before the build: $LOAD_START; CPUs busy before the first case: ${busy:-unknown}%; transparent huge pages: ${THP:-unknown}"
  echo "- ringtable: $([[ -n $RT_BIN ]] && echo "binary $RT_BIN" || echo "built from the work tree at commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)")"
  echo "- etcd: $([[ $ETCD_OK == 1 ]] && echo "$ETCD_VERSION, 3 members on loopback, loaded by bench/etcdload (64 clients over 8 gRPC connections, round-robin over the members)" || echo "not run")"
  echo "- Go processors: $PROCS for ringtable's dev and nodes (their default, twice the runtime's) and for the ideal round; the runtime's default for etcd and the load generators"
  echo "- everything (servers and load generators) shares this machine"
} >"$OUT/header.md"

for run in $(seq "$RUNS"); do
  RUN_TAG=-run$run
  say "run $run of $RUNS: ideal quorum round (bench/ceiling)"
  # write, read, then writes open loop at half the write rate just measured
  # (ceiling-rate): the tail of the ideal round under the p99 target's load.
  run_case "ceiling$RUN_TAG" "${CEILING[@]}" --ops write,read,rate --duration "$DURATION" --keys "$KEYS" --dir "$WORK/ceiling" \
    --csv "$CSV" --label ceiling --latency-log "$LOGS/ceiling-rate$RUN_TAG.latency.csv" || true
  rm -rf "${WORK:?}/ceiling"
  say "run $run of $RUNS: ideal quorum round behind HTTP (bench/ceiling --http, loaded by ringtable bench)"
  ceiling_http_cases

  if [[ $ETCD_OK == 1 ]]; then
    say "run $run of $RUNS: etcd"
    start_etcd "etcd$run"
    run_case "etcd$RUN_TAG" "$BIN/etcdload" --endpoints "$ETCD_ENDPOINTS" --duration "$DURATION" --keys "$KEYS" \
      --ops write,read-linearizable,read-serializable,rate --csv "$CSV" --label etcd \
      --latency-log "$LOGS/etcd-rate$RUN_TAG.latency.csv" || true
    stop_etcd "etcd$run"
  fi

  say "run $run of $RUNS: ringtable dev (3 storage nodes)"
  RT_HALF=0
  ringtable_cases "$run"
  if ((RT_HALF > 0)); then
    say "run $run of $RUNS: ideal quorum round, open loop at ringtable's $RT_HALF writes/s"
    run_case "ceiling-rt$RUN_TAG" "${CEILING[@]}" --ops write,rate --rate "$RT_HALF" --duration "$DURATION" --keys "$KEYS" \
      --dir "$WORK/ceiling" --csv "$CSV" --label ceiling-rt --latency-log "$LOGS/ceiling-rt$RUN_TAG.latency.csv" || true
    rm -rf "${WORK:?}/ceiling"
  fi
done
RUN_TAG=""

say "how cost grows: value size and concurrency (write-only, once)"
# Each point on a fresh dev, as each ceiling point gets a fresh directory:
# otherwise a point would pay for the flushes and compactions of the data
# the points before it wrote (64 KiB values leave gigabytes behind).
for v in "${VALUE_SIZES[@]}"; do
  start_dev "sweep-v$v" 3
  rt_bench ringtable-sweep "sweep-v$v" --read-ratio 0 --value-size "$v" || true
  stop_dev "sweep-v$v"
done
for c in "${CONCURRENCIES[@]}"; do
  start_dev "sweep-c$c" 3
  rt_bench ringtable-sweep "sweep-c$c" --read-ratio 0 --concurrency "$c" || true
  stop_dev "sweep-c$c"
done
for v in "${VALUE_SIZES[@]}"; do
  run_case "ceiling-sweep-v$v" "${CEILING[@]}" --ops write --duration "$DURATION" --keys "$KEYS" --value-size "$v" --dir "$WORK/ceiling" \
    --csv "$CSV" --label ceiling-sweep || true
  rm -rf "${WORK:?}/ceiling"
done
for c in "${CONCURRENCIES[@]}"; do
  run_case "ceiling-sweep-c$c" "${CEILING[@]}" --ops write --duration "$DURATION" --keys "$KEYS" --clients "$c" --dir "$WORK/ceiling" \
    --csv "$CSV" --label ceiling-sweep || true
  rm -rf "${WORK:?}/ceiling"
done

say "how cost grows: 5 storage nodes (N=3 per item)"
start_dev nodes5 5
rt_bench ringtable-5nodes-w w --read-ratio 0 || true
rt_bench ringtable-5nodes-r r --read-ratio 1 || true
stop_dev nodes5

# cluster_cases: ringtable as separate processes on this machine, as it is
# deployed: three `ringtable node`s whose embedded NATS servers form one
# NATS cluster by routes, and a `ringtable gateway` connected to all three,
# with a tenant made through the admin API. Same cases as the dev's uniform
# ones, under labels ringtable-cluster-*.
hexkey() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
cluster_cases() {
  local dir=$WORK/cluster secret admin gw_port c_port r_port id p urls="" peers
  local -A cport rport
  secret=$(hexkey) admin=rt_$(hexkey)
  for id in n1 n2 n3; do
    free_port c_port; cport[$id]=$c_port
    free_port r_port; rport[$id]=$r_port
    urls+=${urls:+,}nats://127.0.0.1:${cport[$id]}
  done
  local pids=()
  for id in n1 n2 n3; do
    peers=""
    for p in n1 n2 n3; do [[ $p == "$id" ]] || peers+=${peers:+,}nats://127.0.0.1:${rport[$p]}; done
    RINGTABLE_CLUSTER_SECRET=$secret "$RT" node --id "$id" --data-dir "$dir/$id" --bootstrap n1,n2,n3 \
      --nats-listen "127.0.0.1:${cport[$id]}" --nats-cluster-listen "127.0.0.1:${rport[$id]}" \
      --nats-routes "$peers" --log-level warn >"$LOGS/cluster-$id.log" 2>&1 &
    pids+=($!); PIDS+=($!)
  done
  free_port gw_port
  RINGTABLE_CLUSTER_SECRET=$secret RINGTABLE_ADMIN_KEY=$admin "$RT" gateway --http "127.0.0.1:$gw_port" \
    --nats-url "$urls" --log-level warn >"$LOGS/cluster-gateway.log" 2>&1 &
  pids+=($!); PIDS+=($!)
  DEV_URL=http://127.0.0.1:$gw_port DEV_KEY=""
  wait_http "$DEV_URL/healthz" "${pids[3]}" 60 "$LOGS/cluster-gateway.log"
  # The tenant's rate quota is lifted, as dev's own tenant's is: the
  # default (5000 requests/s per gateway) would be measured instead.
  # A name per attempt: names are unique, and a failed attempt may have
  # created its tenant.
  for i in $(seq 300); do # the gateway answers before the nodes agree on the ring
    DEV_KEY=$(curl -fsS -H "Authorization: Bearer $admin" -XPOST "$DEV_URL/v1/admin/tenants" \
      -d '{"name":"bench'"$i"'","quotas":{"requests_per_second":1000000,"burst":1000000}}' 2>/dev/null |
      sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p') && [[ -n $DEV_KEY ]] && break
    sleep 0.2
  done
  if [[ -z $DEV_KEY ]]; then
    note "multi-process cluster: no tenant could be created within 60s (logs: logs/cluster-*.log)"
  else
    echo "ringtable cluster (3 node processes, NATS routed between them, 1 gateway) at $DEV_URL"
    rt_bench ringtable-cluster-w cw --read-ratio 0 --dist uniform || true
    rt_bench ringtable-cluster-r cr --read-ratio 1 --dist uniform || true
    rt_bench ringtable-cluster-rw crw --read-ratio 0.5 --dist uniform || true
  fi
  for ((p = ${#pids[@]} - 1; p >= 0; p--)); do stop_pid "${pids[p]}"; forget_pid "${pids[p]}"; done
  rm -rf "${dir:?}"
}
say "ringtable as a multi-process cluster"
cluster_cases

echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/header.md"
say "summary (also in $OUT/summary.md)"
echo
"$BIN/summarize" --csv "$CSV" --header "$OUT/header.md" --notes "$NOTES" --logs "$LOGS" --out "$OUT/summary.md"
echo
echo "results: $OUT (results.csv, summary.md, logs/)"
