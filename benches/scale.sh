#!/usr/bin/env bash
# Fresh (`--no-cache`) and warm `envc check` of generated projects of 10, 1,000 and 5,000
# environments (benches/generate.rs): wall time, CPU and peak memory of the whole process,
# the median of RUNS runs each, and time per environment.
#
#   bash benches/scale.sh                   # RUNS=3 SIZES="10 1000 5000" by default
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SIZES=${SIZES:-10 1000 5000}
cargo build --release --quiet
ENVC=$PWD/target/release/envc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf "%-6s %-5s %9s %9s %9s %11s\n" envs run wall_s cpu_s peak_MB ms_per_env
for envs in $SIZES; do
    ENVC_GENERATE="$envs $work/$envs" cargo bench --quiet --bench pipeline >/dev/null
    cd "$work/$envs"
    "$ENVC" check >/dev/null 2>&1 || true # fills the cache
    for run in fresh warm; do
        flag=$([ "$run" = fresh ] && echo --no-cache || true)
        for _ in $(seq "$RUNS"); do
            /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$ENVC" $flag check >/dev/null 2>&1 || true
            cat "$work/t"
        done | sort -n | awk -v envs="$envs" -v run="$run" -v runs="$RUNS" '
            NR == int((runs + 1) / 2) {
                printf "%-6s %-5s %9.2f %9.2f %9.0f %11.3f\n", envs, run, $1, $2 + $3, $4 / 1024, $1 * 1000 / envs
            }'
    done
    cd - >/dev/null
done
