# End-to-end cases for sessions tied to grants: SSH logins through a real
# OpenSSH server, pam_jit's session phase, ending sessions at expiry and on
# revocation, the reap, and the systemd units.

# Starts sshd for the case; sshd and a watcher started by the case are
# stopped, by pid, when the case's subshell exits.
session_case_start()
{
	e2e_start_sshd
	trap 'e2e_stop_watch; e2e_stop_sshd' EXIT
}

now_ms()
{
	date +%s%3N
}

# Prints a grant's not-after time in seconds since the epoch.
grant_end()
{
	date -d "$(jitctl show "$1" --json | jq -r .not_after)" +%s
}

# Runs "e2e_ssh ARGS..." in the background. When the client exits, its exit
# status and the time in milliseconds are written to $T/ssh.end.
ssh_background()
{
	rm -f "$T/ssh.end" "$T/ssh.out"
	(
		E2E_SSH_TIMEOUT=60 e2e_ssh "$@" >"$T/ssh.out" 2>&1
		echo "$? $(now_ms)" >"$T/ssh.end.tmp"
		mv "$T/ssh.end.tmp" "$T/ssh.end"
	) &
	SSH_BG_PID=$!
}

# Waits up to SECONDS for the background client to exit; sets SSH_RC and
# SSH_END_MS, both empty when it did not.
ssh_wait_end()
{
	local i

	SSH_RC=
	SSH_END_MS=
	for i in $(seq $(( $1 * 20 ))); do
		[ -s "$T/ssh.end" ] && break
		sleep 0.05
	done
	[ -s "$T/ssh.end" ] || return 1
	read -r SSH_RC SSH_END_MS <"$T/ssh.end"
	wait "$SSH_BG_PID" 2>/dev/null
	return 0
}

# Waits up to 10 s until the store contains COUNT session records.
wait_records()
{
	local count=$1 i

	for i in $(seq 100); do
		[ "$(e2e_session_records)" -eq "$count" ] && return 0
		sleep 0.1
	done
	return 1
}

expect_records()
{
	local what=$1 count=$2

	if wait_records "$count"; then
		pass
	else
		fail "$what: expected $count session records, found $(e2e_session_records)"
	fi
}

# Prints how many jit events after CURSOR have all the FIELD=VALUE fields.
ev_count()
{
	local cursor=$1 match
	local -a filter=()

	shift
	for match in "$@"; do
		filter+=(--arg "${match%%=*}" "${match#*=}")
	done
	journalctl --sync 2>/dev/null
	journalctl --no-pager -a -o json --after-cursor="$cursor" 2>/dev/null |
		jq -c "${filter[@]}" '
			def text: if type == "array" then implode else . end;
			. as $entry
			| select(all($ARGS.named | to_entries[];
				     ($entry[.key] // null | text) == .value))' |
		wc -l
}

# Waits up to 5 s for COUNT matching events, then checks that there are
# exactly COUNT.
expect_event_count()
{
	local what=$1 cursor=$2 count=$3 actual i

	shift 3
	for i in $(seq 50); do
		actual=$(ev_count "$cursor" "$@")
		[ "$actual" -ge "$count" ] && break
		sleep 0.1
	done
	sleep 0.3
	actual=$(ev_count "$cursor" "$@")
	expect_eq "$what" "$count" "$actual"
}

# Checks that no process of USER is left.
expect_no_processes()
{
	local what=$1 user=$2 left

	left=$(pgrep -u "$user" -a 2>/dev/null)
	if [ -z "$left" ]; then
		pass
	else
		fail "$what: processes of $user are still running: $(e2e_quote "$left")"
	fi
}

# Checks that the session ended between 0 and LIMIT_MS after the grant's
# end (whole seconds since the epoch).
expect_ended_within()
{
	local what=$1 end_s=$2 limit_ms=$3 latency

	if [ -z "$SSH_END_MS" ]; then
		fail "$what: the ssh client did not exit"
		return
	fi
	latency=$(( SSH_END_MS - end_s * 1000 ))
	if [ "$latency" -ge 0 ] && [ "$latency" -le "$limit_ms" ]; then
		pass
	else
		fail "$what: ended ${latency} ms after the grant's end, expected 0 to $limit_ms ms"
	fi
}

ssh_login_needs_grant_for_sshd()
{
	local cursor id out expires

	session_case_start

	cursor=$(ev_mark)
	out=$(e2e_ssh carol true 2>&1)
	expect_failure "ssh without a grant" $? "$out"
	expect_denied_event "$cursor" carol no-grant
	[ -n "$EV" ] && expect_event_field JIT_SERVICE sshd

	issue carol --for 5m --service jit-test >/dev/null || return
	out=$(e2e_ssh carol true 2>&1)
	expect_failure "ssh with a grant for another service" $? "$out"

	id=$(issue carol --for 5m --service sshd) || return
	expires=$(jitctl show "$id" --json | jq -r .not_after)
	cursor=$(ev_mark)
	out=$(e2e_ssh carol 'printf "%s %s\n" "$JIT_GRANT_ID" "$JIT_EXPIRES"' 2>&1)
	expect_success "ssh with a grant for sshd" $? "$out"
	expect_eq "JIT_GRANT_ID and JIT_EXPIRES in the session" "$id $expires" "$out"

	expect_event "session-opened event" "$cursor" JIT_EVENT=session-opened JIT_USER=carol
	[ -n "$EV" ] && expect_event_field JIT_GRANT_ID "$id"
	[ -n "$EV" ] && expect_event_field JIT_SERVICE sshd
	expect_event "session-closed event" "$cursor" JIT_EVENT=session-closed JIT_USER=carol
	[ -n "$EV" ] && expect_event_field JIT_GRANT_ID "$id"
	[ -n "$EV" ] && expect_match "session-closed has a duration" \
		"$(printf '%s' "$EV" | ev_field JIT_DURATION_MS)" '^[0-9]+$'
	expect_records "record removed at logout" 0

	# After the grant's end a new login is refused, before any reap.
	fresh_store
	id=$(issue carol --for 2s --service sshd) || return
	sleep 2.2
	cursor=$(ev_mark)
	out=$(e2e_ssh carol true 2>&1)
	expect_failure "ssh after the grant expired" $? "$out"
	expect_denied_event "$cursor" carol expired
}

ssh_session_ended_at_grant_expiry()
{
	local cursor id end tty

	session_case_start
	e2e_start_watch

	for tty in notty pty; do
		cursor=$(ev_mark)
		id=$(issue carol --for 4s --service sshd) || return
		end=$(grant_end "$id")
		if [ "$tty" = pty ]; then
			ssh_background -tt carol 'sleep 60'
		else
			ssh_background carol 'sleep 60'
		fi
		expect_records "$tty session recorded" 1

		ssh_wait_end 15
		expect_ended_within "$tty session at grant expiry" "$end" 2000
		expect_event "$tty session-ended event" "$cursor" \
			JIT_EVENT=session-ended JIT_GRANT_ID="$id"
		[ -n "$EV" ] && expect_event_field JIT_END_REASON expired
		[ -n "$EV" ] && expect_event_field JIT_USER carol
		expect_records "$tty session record removed" 0
		sleep 0.2
		expect_no_processes "$tty session" carol
	done
}

ssh_session_ended_on_revoke()
{
	local cursor id start out

	session_case_start
	id=$(issue carol --for 5m --service sshd) || return
	ssh_background carol 'sleep 60'
	expect_records "session recorded" 1

	cursor=$(ev_mark)
	start=$(now_ms)
	out=$(jitctl revoke "$id" --reason "e2e ended on revoke" 2>&1)
	expect_success "jitctl revoke" $? "$out"
	expect_match "revoke names the ended session" "$out" \
		"^ended session of carol through sshd \\(grant $id, leader pid [0-9]+\\): revoked$"

	ssh_wait_end 10
	if [ -n "$SSH_END_MS" ] && [ $(( SSH_END_MS - start )) -le 2000 ]; then
		pass
	else
		fail "the revoked session did not end within 2 s (client exit at ${SSH_END_MS:-never}, revoke at $start)"
	fi
	expect_event "session-ended event" "$cursor" JIT_EVENT=session-ended JIT_GRANT_ID="$id"
	[ -n "$EV" ] && expect_event_field JIT_END_REASON revoked
	[ -n "$EV" ] && expect_event_field JIT_END_METHOD signals
	expect_records "record removed" 0
	sleep 0.2
	expect_no_processes "revoked session" carol
}

ssh_twenty_logins_twenty_events()
{
	local cursor i failures=0

	session_case_start
	issue carol --for 5m --service sshd >/dev/null || return
	cursor=$(ev_mark)
	for i in $(seq 20); do
		e2e_ssh carol true >/dev/null 2>&1 || failures=$((failures + 1))
	done
	expect_eq "failed logins out of 20" 0 "$failures"
	expect_event_count "session-opened events" "$cursor" 20 \
		JIT_EVENT=session-opened JIT_USER=carol
	expect_event_count "session-closed events" "$cursor" 20 \
		JIT_EVENT=session-closed JIT_USER=carol
	expect_records "no record left" 0
}

# Runs pam-session with ARGS in the background, output in
# $T/pam-session.out. The subshell's standard error is dropped because
# bash reports there that a session it ran was ended by a signal.
pam_session_background()
{
	rm -f "$T/pam-session.out"
	( timeout 60 "$T/bin/pam-session" "$@" >"$T/pam-session.out" 2>&1; : ) 2>/dev/null &
	PAM_SESSION_PID=$!
}

# Waits up to 10 s for pam-session to print "holding", then sets
# SESSION_LEADER to the pid it printed.
wait_holding()
{
	local i

	SESSION_LEADER=
	for i in $(seq 100); do
		if grep -qx holding "$T/pam-session.out" 2>/dev/null; then
			SESSION_LEADER=$(sed -n 's/^leader \([0-9]*\)$/\1/p' "$T/pam-session.out")
			return 0
		fi
		sleep 0.1
	done
	return 1
}

pam_session_rechecks_grant()
{
	local cursor id out

	e2e_make_session_pam
	[ -x "$T/bin/pam-session" ] || { fail "pam-session was not built"; return; }

	# No account phase and no grant: the session phase refuses by itself.
	cursor=$(ev_mark)
	out=$(timeout 30 "$T/bin/pam-session" --no-account jit-sess carol 2>&1)
	expect_match "bare session open without a grant" "$out" '^open PAM_PERM_DENIED$'
	expect_denied_event "$cursor" carol no-grant
	expect_records "nothing recorded" 0
	out=$(timeout 30 pamtester jit-sess carol open_session 2>&1)
	expect_failure "pamtester open_session without a grant" $? "$out"

	# An ungated user is not this module's business.
	out=$(timeout 30 "$T/bin/pam-session" --no-account jit-sess dave 2>&1)
	expect_match "ungated user opens a session" "$out" '^open PAM_SUCCESS$'
	expect_no_match "ungated user gets no grant id" "$out" 'JIT_GRANT_ID'

	id=$(issue carol --for 5m --service jit-sess) || return
	out=$(timeout 30 pamtester jit-sess carol open_session close_session 2>&1)
	expect_success "pamtester open_session close_session with a grant" $? "$out"

	# A forked child ends its copy of the handle with PAM_DATA_SILENT
	# while the parent holds the session: nothing is written or emitted.
	cursor=$(ev_mark)
	pam_session_background --no-account --fork-silent --hold 2 jit-sess carol
	if wait_holding; then
		pass
	else
		fail "pam-session did not reach holding: $(e2e_quote "$(cat "$T/pam-session.out")")"
	fi
	out=$(cat "$T/pam-session.out")
	expect_match "session opened" "$out" '^open PAM_SUCCESS$'
	expect_match "grant exported" "$out" "^env JIT_GRANT_ID=$id\$"
	expect_match "silent child ran" "$out" '^child done$'
	expect_eq "record kept after the silent child" 1 "$(e2e_session_records)"
	expect_eq "no session-closed from the silent child" 0 \
		"$(ev_count "$cursor" JIT_EVENT=session-closed JIT_USER=carol)"

	wait "$PAM_SESSION_PID"
	out=$(cat "$T/pam-session.out")
	expect_match "parent closed the session" "$out" '^close PAM_SUCCESS$'
	expect_event_count "one session-opened" "$cursor" 1 JIT_EVENT=session-opened JIT_USER=carol
	expect_event_count "one session-closed" "$cursor" 1 JIT_EVENT=session-closed JIT_USER=carol
	expect_records "record removed by the parent's close" 0
}

session_of_exited_leader_forgotten()
{
	local cursor out

	e2e_make_session_pam
	[ -x "$T/bin/pam-session" ] || { fail "pam-session was not built"; return; }
	issue carol --for 5m --service jit-sess >/dev/null || return

	pam_session_background --hold 60 jit-sess carol
	wait_holding || { fail "pam-session did not reach holding"; return; }
	kill -KILL "$SESSION_LEADER"
	wait "$PAM_SESSION_PID" 2>/dev/null
	expect_eq "record left by the killed leader" 1 "$(e2e_session_records)"

	cursor=$(ev_mark)
	out=$(jitctl reap 2>&1)
	expect_success "jitctl reap" $? "$out"
	expect_no_match "nothing reported as ended" "$out" 'ended session'
	expect_records "record forgotten" 0
	expect_eq "no session-ended event" 0 \
		"$(ev_count "$cursor" JIT_EVENT=session-ended)"
}

# Runs "sudo -n ARGS..." as alice in the background with $T/sudo-input as
# standard input. When sudo exits, its exit status and the time in
# milliseconds are written to $T/sudo.end.
sudo_background()
{
	rm -f "$T/sudo.end" "$T/sudo.out" "$T/child.pid"
	(
		timeout 60 runuser -u alice -- sudo -n "$@" <"$T/sudo-input" >"$T/sudo.out" 2>&1
		echo "$? $(now_ms)" >"$T/sudo.end.tmp"
		mv "$T/sudo.end.tmp" "$T/sudo.end"
	) &
}

# Waits up to $1 seconds for sudo_background's sudo to end; sets RC and
# SUDO_END_MS, or leaves SUDO_END_MS empty.
sudo_wait_end()
{
	local i

	SUDO_END_MS=
	for i in $(seq $(( $1 * 10 ))); do
		[ -s "$T/sudo.end" ] && break
		sleep 0.1
	done
	[ -s "$T/sudo.end" ] && read -r RC SUDO_END_MS <"$T/sudo.end"
}

# Waits up to 5 s for the pid in $T/child.pid to be gone; fails when it
# is still there.
expect_child_gone()
{
	local pid i

	pid=$(cat "$T/child.pid" 2>/dev/null)
	[ -n "$pid" ] || { fail "$1: the shell never wrote its child's pid"; return; }
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { pass; return; }
		sleep 0.1
	done
	fail "$1: process $pid is still running"
	kill -KILL "$pid" 2>/dev/null
}

sudo_shell_killed_at_grant_end()
{
	local id end latency

	e2e_start_watch
	id=$(issue alice --for 4s --command ALL) || { e2e_stop_watch; return; }
	end=$(grant_end "$id")

	# The shell starts a child in the background and waits for it, as a
	# user's long job would; the child must end with the grant too.
	install -o root -g root -m 0644 /dev/null "$T/sudo-input"
	printf 'sleep 100 &\necho $! >%s/child.pid\nwait\n' "$T" >"$T/sudo-input"
	sudo_background -s
	sudo_wait_end 15
	e2e_stop_watch

	[ -n "$SUDO_END_MS" ] || { fail "sudo -s did not end within 15 s"; return; }
	expect_failure "sudo -s shell outliving its grant" "$RC" "$(cat "$T/sudo.out")"

	# timeout= is rounded up, so sudo is still there when the grant ends
	# and jitctl watch ends the whole session at that moment; sudo's own
	# timeout would end the shell within a second after.
	latency=$(( SUDO_END_MS - end * 1000 ))
	if [ "$latency" -ge -100 ] && [ "$latency" -le 1500 ]; then
		pass
	else
		fail "sudo -s ended ${latency} ms after the grant's end, expected 0 to 1500"
	fi
	expect_child_gone "the shell's background child"
	expect_records "sudo session record removed" 0
}

sudo_command_ended_on_revoke()
{
	local id cursor start i

	id=$(issue alice --for 5m --command /usr/bin/sleep) || return
	install -o root -g root -m 0644 /dev/null "$T/sudo-input"
	sudo_background sleep 100
	for i in $(seq 50); do
		[ "$(e2e_session_records)" -ge 1 ] && break
		sleep 0.1
	done
	expect_records "sudo session recorded" 1

	cursor=$(ev_mark)
	start=$(now_ms)
	jitctl revoke "$id" --reason "e2e sudo revoke" >/dev/null 2>&1 ||
		fail "jitctl revoke failed"
	sudo_wait_end 10
	if [ -n "$SUDO_END_MS" ] && [ $(( SUDO_END_MS - start )) -le 2000 ]; then
		pass
	else
		fail "the revoked sudo command did not end within 2 s"
	fi
	expect_event "session-ended event" "$cursor" JIT_EVENT=session-ended JIT_GRANT_ID="$id"
	[ -n "$EV" ] && expect_event_field JIT_SERVICE sudo
	[ -n "$EV" ] && expect_event_field JIT_END_REASON revoked
	expect_records "record removed" 0
}

reap_twice_at_once_counts_once()
{
	local cursor i out1 out2 rc1 rc2 removed

	e2e_make_session_pam
	[ -x "$T/bin/pam-session" ] || { fail "pam-session was not built"; return; }

	for i in $(seq 30); do
		jitctl grant bob --for 1s --command /usr/bin/id --reason "e2e reap" >/dev/null ||
			fail "jitctl grant $i failed"
	done
	issue carol --for 2s --service jit-sess >/dev/null || return
	pam_session_background --hold 60 jit-sess carol
	wait_holding || { fail "pam-session did not reach holding"; return; }
	sleep 2.2

	cursor=$(ev_mark)
	jitctl reap >"$T/reap1.out" 2>&1 &
	rc1=$!
	jitctl reap >"$T/reap2.out" 2>&1 &
	rc2=$!
	wait "$rc1"
	rc1=$?
	wait "$rc2"
	rc2=$?
	out1=$(cat "$T/reap1.out")
	out2=$(cat "$T/reap2.out")
	expect_success "first reap" "$rc1" "$out1"
	expect_success "second reap" "$rc2" "$out2"

	removed=0
	for i in $(printf '%s\n%s\n' "$out1" "$out2" |
		   sed -n 's/^removed \([0-9]*\) expired grants*$/\1/p'); do
		removed=$((removed + i))
	done
	expect_eq "grants removed by both reaps together" 31 "$removed"
	expect_event_count "grant-removed events" "$cursor" 31 JIT_EVENT=grant-removed
	expect_event_count "session-ended events" "$cursor" 1 JIT_EVENT=session-ended
	expect_eq "ended-session lines of both reaps" 1 \
		"$(printf '%s\n%s\n' "$out1" "$out2" | grep -c '^ended session of carol')"
	wait "$PAM_SESSION_PID" 2>/dev/null
	expect_no_match "the held session was ended" "$(cat "$T/pam-session.out")" '^close '
	expect_records "record removed" 0
}

expired_grant_denied_until_reaped()
{
	local carol_id alice_id out

	carol_id=$(issue carol --for 1s --service jit-test) || return
	alice_id=$(issue alice --for 1s --command /usr/bin/id) || return
	sleep 1.2

	# No reap ran: the grants are still stored, and every check denies.
	out=$(jitctl list --all 2>&1)
	expect_match "expired grant still listed" "$out" "$carol_id"
	pam_account carol
	expect_eq "PAM account check with a stored expired grant" PAM_PERM_DENIED "$OUT"
	run_as alice sudo -n id
	expect_failure "sudo with a stored expired grant" "$RC" "$OUT"
	out=$(jitctl check alice -- id 2>&1)
	expect_match "jitctl check names the reason" "$out" 'expired'

	out=$(jitctl reap 2>&1)
	expect_success "jitctl reap" $? "$out"
	expect_match "reap removed both" "$out" '^removed 2 expired grants$'
	out=$(jitctl show "$alice_id" 2>&1)
	expect_failure "reaped grant is gone" $? "$out"
}

# Copies what systemd-analyze verify needs into ROOT: the distribution's
# units (for the targets the shipped units name) and, at the unit's
# ExecStart path, the built jitctl.
make_unit_root()
{
	local root=$1 unit exec

	install -d "$root/lib/systemd" "$root/etc/systemd/system"
	cp -a /lib/systemd/system "$root/lib/systemd/" || return 1
	for unit in "$E2E_BUILD"/packaging/systemd/*.service; do
		exec=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
		install -D -m 0755 "$E2E_BUILD/jitctl/jitctl" "$root$exec" || return 1
	done
	cp "$E2E_BUILD"/packaging/systemd/jit-* "$root/etc/systemd/system/"
}

systemd_units_verify_and_score()
{
	local root=$T/unit-root unit name out score

	command -v systemd-analyze >/dev/null || { fail "systemd-analyze not found"; return; }
	ls "$E2E_BUILD"/packaging/systemd/jit-reap.service \
	   "$E2E_BUILD"/packaging/systemd/jit-reap.timer \
	   "$E2E_BUILD"/packaging/systemd/jit-watch.service >/dev/null ||
		{ fail "the systemd units were not built"; return; }
	make_unit_root "$root" || { fail "preparing $root failed"; return; }

	for unit in "$E2E_BUILD"/packaging/systemd/jit-*; do
		name=${unit##*/}
		out=$(timeout 60 systemd-analyze verify --man=no --root="$root" "$name" 2>&1)
		expect_success "systemd-analyze verify $name" $? "$out"
		expect_eq "systemd-analyze verify $name prints nothing" "" "$out"
	done

	for name in jit-reap.service jit-watch.service; do
		out=$(timeout 60 systemd-analyze security --offline=true \
			"$E2E_BUILD/packaging/systemd/$name" 2>&1)
		score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		echo "#   $name: exposure $score" >&3
		if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
			pass
		else
			fail "systemd-analyze security $name: exposure '$score', expected at most 3.0: $(e2e_quote "$out")"
		fi
	done
}

session_warned_once_before_expiry()
{
	local cursor id out

	session_case_start
	id=$(issue carol --for 4m --service sshd) || return
	cursor=$(ev_mark)
	e2e_start_watch
	out=$(E2E_SSH_TIMEOUT=30 e2e_ssh -tt carol 'sleep 4' 2>&1)
	expect_success "ssh -tt with a grant" $? "$out"
	expect_match "warning on the session's terminal" "$out" \
		"jit: grant $id ends at [0-9T:Z-]+ \\(in [0-9]+m[0-9]+s\\); this session will be closed then"
	expect_event_count "one grant-expiring-warning event" "$cursor" 1 \
		JIT_EVENT=grant-expiring-warning JIT_GRANT_ID="$id"
	expect_event "grant-expiring-warning event" "$cursor" \
		JIT_EVENT=grant-expiring-warning JIT_GRANT_ID="$id"
	[ -n "$EV" ] && expect_event_field JIT_DETAIL "told on the session's terminal"
}
