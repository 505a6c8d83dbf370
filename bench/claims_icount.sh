#!/bin/bash
# Instructions (valgrind callgrind) to check and price N fresh claims after a warm-up: a count that does not
# swing with the machine's load the way CPU seconds do, for comparing two versions of the claims path.
# Usage, from a checkout's root: bench/claims_icount.sh [N=2000]   (PY=python to use; SRC=the src/ to measure)
# Needs valgrind. Instrumentation is switched on only around the fresh claims (callgrind_control).
N=${1:-2000}; PY=${PY:-.venv/bin/python}; SRC=${SRC:-$PWD/src}
tmp=$(mktemp -d); flag=$tmp/go
PYTHONHASHSEED=0 PYTHONPATH=$SRC valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$tmp/cg.out \
  "$PY" bench/_claims_icount_run.py "$N" "$flag" > "$tmp/log" 2> "$tmp/vg.log" &
vpid=$!
while ! grep -q READY "$tmp/log" 2>/dev/null; do
  sleep 1
  if ! kill -0 $vpid 2>/dev/null; then tail "$tmp/log" "$tmp/vg.log"; exit 1; fi
done
callgrind_control -i on $vpid > /dev/null
touch "$flag"
while ! grep -q DONE "$tmp/log"; do sleep 0.5; done
callgrind_control -i off $vpid > /dev/null
touch "$flag.stop"
wait $vpid
callgrind_annotate "$tmp/cg.out" 2> /dev/null | grep -m1 "PROGRAM TOTALS"
echo "callgrind output: $tmp/cg.out"
