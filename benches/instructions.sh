#!/usr/bin/env bash
# The instruction budget of a fresh `envc check` of the root project: callgrind's count of
# instructions (deterministic, unlike wall time), printed against the budget.
#
#   bash benches/instructions.sh            # builds the release binary first
#   ENVC=path/to/envc bash benches/instructions.sh
#
# The README's "Speed" section records each change to the figure.
set -euo pipefail
BUDGET=30000000
cd "$(dirname "$0")/.."
if [ -z "${ENVC:-}" ]; then
    cargo build --release --quiet
    ENVC=$PWD/target/release/envc
fi
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 2; }
# A copy of the committed project, outside git (so no base is looked up) and without caches.
project=$(mktemp -d)
trap 'rm -rf "$project" "$project.out"' EXIT
git archive HEAD | tar -x -C "$project"
(cd "$project" && valgrind --tool=callgrind --callgrind-out-file="$project.out" \
    "$ENVC" --no-cache check >/dev/null 2>"$project.log") || true
count=$(grep -E '^(summary|totals):' "$project.out" | head -1 | awk '{print $2}')
[ -n "$count" ] || { cat "$project.log" >&2; exit 2; }
awk -v n="$count" -v b="$BUDGET" 'BEGIN {
    printf "fresh root check: %.1f M instructions; budget %.1f M: ", n / 1e6, b / 1e6
    if (n <= b) print "within"; else printf "over by %.1f M\n", (n - b) / 1e6
}'
