#!/usr/bin/env bash
# Runs the comparison harness in its quick shape (bench/compare.sh --quick,
# without etcd) and fails unless every case it measures produced its row
# and none failed on both tries. The figures are not judged: a smoke run
# on a shared machine says nothing about speed, only that the harness,
# `ringtable bench`, the ideal round and the multi-process cluster still
# fit together.
set -euo pipefail
cd "$(dirname "$0")/.."

# The results stay behind only when the check fails.
out=$(mktemp -d "${TMPDIR:-/tmp}/ringtable-smoke.XXXXXX")
if ! bench/compare.sh --quick --no-etcd --out "$out"; then
  echo "harness-smoke: bench/compare.sh failed" >&2
  exit 1
fi

fail=0
# label,op pairs every quick run writes to results.csv (the sweeps' rows
# are counted separately: one per value size and concurrency measured).
for want in ceiling,write ceiling,read ceiling-http,write ceiling-http,read \
  ceiling-rate,write ceiling-rt,write ceiling-rt-rate,write \
  ringtable-w-uniform,write ringtable-w-zipf,write ringtable-r-uniform,read ringtable-r-zipf,read \
  ringtable-rw-uniform,write ringtable-rw-uniform,read ringtable-rw-zipf,write ringtable-rw-zipf,read \
  ringtable-rate,write ringtable-5nodes-w,write ringtable-5nodes-r,read \
  ringtable-cluster-w,write ringtable-cluster-r,read ringtable-cluster-rw,write ringtable-cluster-rw,read; do
  if ! cut -d, -f2,3 "$out/results.csv" | grep -qx "$want"; then
    echo "harness-smoke: no row for $want in results.csv" >&2
    fail=1
  fi
done
for sweep in ceiling-sweep ringtable-sweep; do
  n=$(cut -d, -f2 "$out/results.csv" | grep -cx "$sweep" || true)
  if [[ $n -ne 4 ]]; then
    echo "harness-smoke: $n rows for $sweep, want 4 (two value sizes, two concurrencies)" >&2
    fail=1
  fi
done
if grep -e 'failed twice' -e 'no tenant could be created' "$out/notes.txt" >&2; then
  echo "harness-smoke: the cases above failed (logs in $out/logs)" >&2
  fail=1
fi
[[ -s $out/summary.md ]] || { echo "harness-smoke: no summary.md" >&2; fail=1; }
# The open-loop runs' latency logs, read back into the summary's tails.
for want in "ringtable dev, at half its max write rate" "ideal quorum round, at ringtable's rate" \
  "ideal quorum round, at half its max write rate"; do
  if ! grep -qF "| $want | 1 |" "$out/summary.md"; then
    echo "harness-smoke: summary.md has no tail for \"$want\" (latency logs in $out/logs)" >&2
    fail=1
  fi
done
if [[ $fail -ne 0 ]]; then
  cat "$out/notes.txt" >&2
  exit 1
fi
rows=$(($(wc -l <"$out/results.csv") - 1))
rm -rf "$out"
echo "harness-smoke: every case measured ($rows rows)"
