# End-to-end cases for the sudo policy plugin, driven through the real sudo.

SECURE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

sudo_allowed_command_runs_as_runas()
{
	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n id -un
	expect_success "sudo -n id -un" "$RC" "$OUT"
	expect_eq "default runas user" root "$OUT"

	issue alice --for 5m --runas bob --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n -u bob id -un
	expect_success "sudo -n -u bob id -un" "$RC" "$OUT"
	expect_eq "runas user from the grant" bob "$OUT"
}

sudo_other_command_denied()
{
	local cursor

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	cursor=$(ev_mark)
	run_as alice sudo -n cat /etc/shadow
	expect_failure "sudo -n cat /etc/shadow" "$RC" "$OUT"
	expect_match "denial names the grant command" "$OUT" 'jitctl grant'
	expect_no_match "shadow file not printed" "$OUT" '^root:'
	expect_denied_event "$cursor" alice out-of-scope

	cursor=$(ev_mark)
	run_as bob sudo -n id
	expect_failure "sudo -n id by a user without grants" "$RC" "$OUT"
	expect_match "denial names the grant command" "$OUT" 'jitctl grant'
	expect_denied_event "$cursor" bob no-grant
}

sudo_runas_outside_grant_denied()
{
	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n -u bob id
	expect_failure "sudo -u bob with a grant for root" "$RC" "$OUT"
	expect_no_match "nothing ran" "$OUT" 'uid='

	issue dave --for 5m --runas bob --command /usr/bin/id >/dev/null || return
	run_as dave sudo -n -u carol id
	expect_failure "sudo -u carol with a grant for bob" "$RC" "$OUT"
	run_as dave sudo -n id
	expect_failure "sudo as root with a grant for bob only" "$RC" "$OUT"
	expect_no_match "nothing ran" "$OUT" 'uid='
}

sudo_shell_forms_need_all_grant()
{
	local form

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	for form in "-s" "-i" "-i id" "sh -c id" "-s id" ""; do
		# shellcheck disable=SC2086 # each form is split into words on purpose
		run_as alice sudo -n $form
		expect_failure "sudo -n $form with a command-scoped grant" "$RC" "$OUT"
		expect_no_match "sudo -n $form ran nothing" "$OUT" 'uid=0'
	done

	issue bob --for 5m --command ALL >/dev/null || return
	for form in "-i id" "-s id" "sh -c id"; do
		# shellcheck disable=SC2086
		run_as bob sudo -n $form
		expect_success "sudo -n $form with an ALL grant" "$RC" "$OUT"
		expect_match "sudo -n $form ran as root" "$OUT" 'uid=0\(root\)'
	done
	OUT=$(printf 'id\n' | timeout 30 runuser -u bob -- sudo -n -s 2>&1)
	RC=$?
	expect_success "sudo -n -s reading commands from stdin" "$RC" "$OUT"
	expect_match "the shell ran as root" "$OUT" 'uid=0\(root\)'
}

sudo_list_shows_grant()
{
	local id

	id=$(issue alice --for 10m --command /usr/bin/id) || return
	run_as alice sudo -n -l
	expect_success "sudo -n -l" "$RC" "$OUT"
	expect_match "listing shows the grant id" "$OUT" "$id"
	expect_match "listing shows the command" "$OUT" '/usr/bin/id'
	expect_match "listing shows the time left" "$OUT" '([0-9]+m|[0-9]+s)'

	run_as alice sudo -n -l /usr/bin/id
	expect_success "sudo -n -l /usr/bin/id" "$RC" "$OUT"
	expect_match "sudo -l CMD prints the resolved path" "$OUT" '/usr/bin/id'

	run_as alice sudo -n -l /usr/bin/cat
	expect_failure "sudo -n -l /usr/bin/cat" "$RC" "$OUT"

	run_as bob sudo -n -l
	expect_match "a user without grants is told so" "$OUT" 'no active grant'
}

sudo_command_killed_at_expiry()
{
	local start elapsed

	issue alice --for 5s --command /usr/bin/sleep >/dev/null || return
	start=$(date +%s)
	run_as alice sudo -n sleep 100
	elapsed=$(( $(date +%s) - start ))
	expect_failure "sudo -n sleep 100 outliving its grant" "$RC" "$OUT"
	expect_match "the user is told why" "$OUT" 'stopped because its grant ended'
	if [ "$elapsed" -ge 2 ] && [ "$elapsed" -le 20 ]; then
		pass
	else
		fail "sleep ran for ${elapsed}s; expected it to start, then end with the 5 s grant (2-20 s)"
	fi
}

sudo_validate_and_kill_keep_grant()
{
	local id before after start

	id=$(issue alice --for 5m --command /usr/bin/id) || return
	before=$(jitctl show "$id" --json)

	run_as alice timeout 10 sudo -n -v
	expect_success "sudo -n -v with a grant" "$RC" "$OUT"
	run_as alice sudo -k
	expect_success "sudo -k" "$RC" "$OUT"
	run_as alice timeout 10 sudo -n -v
	expect_success "sudo -n -v after sudo -k" "$RC" "$OUT"

	after=$(jitctl show "$id" --json)
	expect_eq "grant unchanged by -v and -k" "$before" "$after"

	start=$(date +%s)
	run_as bob timeout 10 sudo -n -v
	expect_failure "sudo -n -v without a grant" "$RC" "$OUT"
	if [ $(( $(date +%s) - start )) -le 3 ]; then
		pass
	else
		fail "sudo -n -v without a grant took over 3 s (status $RC)"
	fi
}

sudo_without_terminal_never_hangs()
{
	local out status

	issue alice --for 5m --command /usr/bin/true >/dev/null || return
	out=$(timeout 10 setsid -w runuser -u alice -- sudo -n true </dev/null 2>&1)
	status=$?
	expect_success "setsid sudo -n true with a grant" "$status" "$out"

	out=$(timeout 10 setsid -w runuser -u bob -- sudo -n true </dev/null 2>&1)
	status=$?
	expect_failure "setsid sudo -n true without a grant" "$status" "$out"
	if [ "$status" -ne 124 ]; then
		pass
	else
		fail "sudo -n true without a terminal hung for 10 s"
	fi
}

sudo_resets_path_and_environment()
{
	local home=$T/home/alice cursor out
	local -a hostile

	install -d -o alice -g alice -m 0755 "$home/bin"
	printf '#!/bin/sh\necho FAKE-ID\n' >"$home/bin/id"
	chmod 0755 "$home/bin/id"
	chown alice: "$home/bin/id"
	hostile=(env "PATH=$home/bin:/usr/bin:/bin"
		 LD_PRELOAD=/nonexistent/jit-e2e-preload.so
		 "LD_LIBRARY_PATH=$home/lib" "BASH_ENV=$home/bashenv")

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	issue alice --for 5m --command /usr/bin/env >/dev/null || return

	cursor=$(ev_mark)
	out=$(as_user alice "${hostile[@]}" sudo -n id 2>/dev/null)
	expect_match "the real id ran as root" "$out" '^uid=0\(root\)'
	expect_no_match "the fake id in ~/bin did not run" "$out" 'FAKE-ID'
	expect_event "access-allowed event" "$cursor" JIT_EVENT=access-allowed JIT_USER=alice
	[ -n "$EV" ] && expect_event_field JIT_COMMAND /usr/bin/id

	out=$(as_user alice "${hostile[@]}" sudo -n env 2>/dev/null)
	expect_match "env ran" "$out" '^SUDO_USER=alice$'
	expect_no_match "LD_PRELOAD removed" "$out" '^LD_PRELOAD='
	expect_no_match "LD_LIBRARY_PATH removed" "$out" '^LD_LIBRARY_PATH='
	expect_no_match "BASH_ENV removed" "$out" '^BASH_ENV='
	expect_eq "PATH is the secure path" "PATH=$SECURE_PATH" "$(printf '%s\n' "$out" | grep '^PATH=')"
}

sudo_authentication_and_cache()
{
	local cursor password=$E2E_ERIN_PASSWORD

	issue erin --for 5m --role password >/dev/null || return

	run_as erin sudo -n id
	expect_failure "sudo -n id before authenticating" "$RC" "$OUT"
	expect_match "denial asks for a password" "$OUT" 'password is required'

	OUT=$(printf '%s\n' "$password" | timeout 30 runuser -u erin -- sudo -S id 2>&1)
	RC=$?
	expect_success "sudo -S id with the right password" "$RC" "$OUT"
	expect_match "id ran as root" "$OUT" 'uid=0\(root\)'

	run_as erin sudo -n id
	expect_success "sudo -n id from the credential cache" "$RC" "$OUT"

	run_as erin sudo -k
	expect_success "sudo -k" "$RC" "$OUT"
	run_as erin sudo -n id
	expect_failure "sudo -n id after sudo -k" "$RC" "$OUT"

	cursor=$(ev_mark)
	OUT=$(printf 'wrong-password\n' | timeout 30 runuser -u erin -- sudo -S id 2>&1)
	RC=$?
	expect_failure "sudo -S id with a wrong password" "$RC" "$OUT"
	expect_no_match "nothing ran" "$OUT" 'uid=0'
	expect_denied_event "$cursor" erin auth-failed
}
