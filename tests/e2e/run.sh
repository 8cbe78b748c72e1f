#!/usr/bin/env bash
# End-to-end suite: drives the real sudo, libpam, pamtester and
# systemd-journald against the built jit inside private namespaces.
#
# Usage: run.sh BUILD_DIR SOURCE_DIR [CASE...]
#
# Runs every case (or only the named ones), prints "ok - NAME" or
# "not ok - NAME" per case with the reasons of a failure on "#" lines, then
# "e2e: N passed, N failed". Exits 0 only when every case passed. Needs root.
set -u -o pipefail

if [ -z "${E2E_T:-}" ]; then
	[ $# -ge 2 ] || { echo "usage: run.sh BUILD_DIR SOURCE_DIR [CASE...]" >&2; exit 2; }
	E2E_BUILD=$(realpath "$1") || exit 2
	E2E_SRC=$(realpath "$2") || exit 2
	shift 2
	export E2E_BUILD E2E_SRC

	. "$E2E_SRC/tests/e2e/lib.sh"
	e2e_spawn "$E2E_SRC/tests/e2e/run.sh" "$@"
	exit $?
fi

# From here on this script is PID 1 of the namespace.
. "$E2E_SRC/tests/e2e/lib.sh"
. "$E2E_SRC/tests/e2e/check.sh"
for file in "$E2E_SRC"/tests/e2e/cases_*.sh; do
	. "$file"
done

trap e2e_teardown EXIT
e2e_setup
e2e_init
e2e_save_pristine

# Order matters only for speed: every case starts from a fresh store.
E2E_ALL_CASES=(
	sudo_allowed_command_runs_as_runas
	sudo_other_command_denied
	sudo_runas_outside_grant_denied
	sudo_shell_forms_need_all_grant
	sudo_list_shows_grant
	grant_expired_denied
	grant_revoked_denied
	grant_untrusted_key_denied
	grant_tampered_blob_denied
	grant_other_host_or_user_denied
	sudo_command_killed_at_expiry
	sudo_validate_and_kill_keep_grant
	sudo_without_terminal_never_hangs
	sudo_resets_path_and_environment
	sudo_and_pam_leak_no_descriptor
	pam_account_gates_logins
	fail_closed_on_broken_files
	plugin_and_install_file_modes
	grant_time_limits_enforced
	unprivileged_check_changes_nothing
	journal_events_read_back
	journal_gone_or_slow_still_decides
	sudo_authentication_and_cache
	request_approve_then_sudo
	request_self_approval_refused
	request_two_approvals_distinct
	request_outside_requesters_refused
	request_reason_pattern_refused
	request_duration_above_max_refused
	request_expired_not_approvable
	request_cancel_and_deny
	approver_grants_through_broker
	break_glass_member_flagged
	break_glass_non_member_refused
	broker_bad_messages_keep_serving
	notify_command_gets_json
	notify_command_hang_does_not_block
	broker_units_verify
	inventory_finds_planted_privilege
	inventory_clean_host_finds_nothing
	inventory_sudoers_syntax_error_reported
	inventory_unreadable_sources_reported
	inventory_without_sshd_reports_info
	ssh_login_needs_grant_for_sshd
	ssh_session_ended_at_grant_expiry
	ssh_session_ended_on_revoke
	ssh_twenty_logins_twenty_events
	pam_session_rechecks_grant
	session_of_exited_leader_forgotten
	sudo_shell_killed_at_grant_end
	sudo_command_ended_on_revoke
	reap_twice_at_once_counts_once
	expired_grant_denied_until_reaped
	systemd_units_verify_and_score
	session_warned_once_before_expiry
	evidence_story_of_grant_life
	evidence_json_lines_export
	evidence_verify_finds_tampering
	evidence_report_counts_match
	evidence_retention_prunes_on_reap
	fault_reader_table_full
	fault_alloc_failure_in_pam_module
	fault_alloc_failure_in_sudo_plugin
	fault_clock_far_from_grant
	fault_store_file_system_full
)

if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=("${E2E_ALL_CASES[@]}")
fi

passed=0
failed=0
for name in "${cases[@]}"; do
	if ! declare -F "$name" >/dev/null; then
		echo "not ok - $name"
		echo "#   no such case"
		failed=$((failed + 1))
		continue
	fi
	if e2e_run_case "$name"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
done

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
