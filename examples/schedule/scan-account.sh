#!/usr/bin/env bash
# One account's scheduled drift scan: the step the GitHub Actions matrix job, the GitLab parallel
# job and each pod of the Kubernetes indexed Job run, kept in one script so a test can run
# exactly it (tests/schedule_examples.rs).
#
#   ACCOUNT       the account this run scans (AWS account id, GCP project, Azure subscription)
#   ACCOUNTS      instead of ACCOUNT: the accounts, space-separated, with JOB_COMPLETION_INDEX
#                 (set by Kubernetes in an indexed Job) picking this pod's one
#   STATES        the account's states: a folder of *.tfstate (e.g. `terraform state pull`s)
#   INVENTORY     the account's inventory exports (optional; a folder)
#   AUDIT_LOGS    the account's audit logs (optional; a folder)
#   ACCOUNT_MAP   the account names (optional; see accounts.toml)
#   REPORTS       where the report goes, as REPORTS/ACCOUNT.json (default: reports)
#   DRIFTLOCK     the driftlock binary (default: driftlock on PATH)
#
# Exit status: 0 when the report was written, whatever its gate — the merge step gates the
# organisation (and exits 2 if this account could not be audited). Without a report: driftlock's
# status (2).
set -uo pipefail
if [ -z "${ACCOUNT:-}" ] && [ -n "${ACCOUNTS:-}" ]; then
  read -r -a all <<<"$ACCOUNTS"
  ACCOUNT=${all[${JOB_COMPLETION_INDEX:?set JOB_COMPLETION_INDEX with ACCOUNTS}]:-}
fi
: "${ACCOUNT:?set ACCOUNT (or ACCOUNTS and JOB_COMPLETION_INDEX)}"
: "${STATES:?set STATES to the folder of the states of the account}"
REPORTS=${REPORTS:-reports}
DRIFTLOCK=${DRIFTLOCK:-driftlock}
args=(--state "$STATES")
[ -n "${INVENTORY:-}" ] && args+=(--inventory "$INVENTORY")
[ -n "${AUDIT_LOGS:-}" ] && args+=(--audit-log "$AUDIT_LOGS")
[ -n "${ACCOUNT_MAP:-}" ] && args+=(--account-map "$ACCOUNT_MAP")
mkdir -p "$REPORTS"
report="$REPORTS/$ACCOUNT.json"
rm -f "$report"
"$DRIFTLOCK" scan "${args[@]}" --format json --output "$report"
status=$?
echo "driftlock: $ACCOUNT scanned (status $status), report in $report" >&2
[ -s "$report" ] && exit 0
exit "$status"
