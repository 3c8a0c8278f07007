#!/usr/bin/env bash
# The organisation report: merges every account's report (REPORTS/*.json) into one, with a table
# by account. The step the merge job (GitHub Actions, GitLab) and the merge CronJob (Kubernetes)
# run; tests/schedule_examples.rs runs it.
#
#   REPORTS       the folder of the accounts' reports (default: reports)
#   ACCOUNT_MAP   the account names (optional; see accounts.toml)
#   OUT           where org-report.json and org-summary.md go (default: .)
#   DRIFTLOCK     the driftlock binary (default: driftlock on PATH)
#
# Exit status is the organisation's gate: 0 open, 1 closed by findings, 2 an account could not
# be audited (or its report is missing or is not a driftlock report).
set -uo pipefail
REPORTS=${REPORTS:-reports}
OUT=${OUT:-.}
DRIFTLOCK=${DRIFTLOCK:-driftlock}
args=("$REPORTS")
[ -n "${ACCOUNT_MAP:-}" ] && args+=(--account-map "$ACCOUNT_MAP")
mkdir -p "$OUT"
"$DRIFTLOCK" report merge "${args[@]}" --format markdown --output "$OUT/org-summary.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$OUT/org-summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
# The gate: the JSON organisation report is kept, the exit status decides.
"$DRIFTLOCK" report merge "${args[@]}" --format json --output "$OUT/org-report.json"
