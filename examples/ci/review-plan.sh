#!/usr/bin/env bash
# Pull request plan review with driftlock: the steps the GitHub Actions workflow and the GitLab
# job below run, kept in one script so a test can run exactly them (tests/ci_examples.rs).
#
#   PLAN_JSON       the plan as JSON (`terraform show -json tfplan > plan.json`)
#   DRIFTLOCK_TOML  the lock's configuration (optional)
#   PHASE           the plan's phase (optional; else the phase whose `plans` hold the file)
#   OUT             where the comment, SARIF and annotations go (default: .)
#   DRIFTLOCK       the driftlock binary (default: driftlock on PATH)
#
# Exit status is driftlock's gate: 0 open, 1 closed by findings, 2 could not audit.
set -uo pipefail
: "${PLAN_JSON:?set PLAN_JSON to the plan JSON}"
OUT=${OUT:-.}
DRIFTLOCK=${DRIFTLOCK:-driftlock}
args=("$PLAN_JSON")
[ -n "${DRIFTLOCK_TOML:-}" ] && args+=(--config "$DRIFTLOCK_TOML")
[ -n "${PHASE:-}" ] && args+=(--phase "$PHASE")
mkdir -p "$OUT"

# The pull request comment, the code-scanning upload, and inline annotations (on GitHub).
"$DRIFTLOCK" review-plan "${args[@]}" --format markdown --output "$OUT/driftlock-comment.md"
"$DRIFTLOCK" review-plan "${args[@]}" --format sarif --output "$OUT/driftlock.sarif"
if [ -n "${GITHUB_ACTIONS:-}" ]; then
  "$DRIFTLOCK" review-plan "${args[@]}" --format github
fi
# The gate: the JSON report is kept as an artifact, the exit status decides.
"$DRIFTLOCK" review-plan "${args[@]}" --format json --output "$OUT/driftlock-report.json"
