#!/bin/sh
# run.sh FUZZER SEEDS RUNS: runs the fuzzer over the seed corpus for RUNS
# inputs with a fixed seed. libFuzzer writes the inputs it finds into its
# first corpus directory: that is a fresh temporary one, so the seeds stay
# read-only and every run starts from the same corpus.
set -eu
fuzzer=$1 seeds=$2 runs=$3
found=$(mktemp -d)
trap 'rm -rf "$found"' EXIT
"$fuzzer" -runs="$runs" -seed=1 -max_len=512 -timeout=30 \
  -print_final_stats=1 "$found" "$seeds"
