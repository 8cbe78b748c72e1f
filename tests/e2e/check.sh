# Checks and per-case bookkeeping for the end-to-end cases (sourced by
# run.sh after lib.sh). A case is a bash function; each expect_* call is one
# check. A case passes when at least one check ran and none failed. Failure
# reasons go to descriptor 3, the runner's own stdout, so that they are
# printed even from inside a command substitution.

# Restores the state every case starts from: default configuration and keys,
# an empty store, no sudo timestamps, journald running and reachable.
e2e_reset()
{
	if [ -n "${E2E_JOURNALD_PID:-}" ]; then
		kill -CONT "$E2E_JOURNALD_PID" 2>/dev/null
	fi
	if [ -e /run/systemd/journal/socket.away ]; then
		mv /run/systemd/journal/socket.away /run/systemd/journal/socket
	fi

	rm -rf "$STORE" "$T/store2" "$T/other" /run/jit/ts "$T/nologin"
	rm -rf "$T/etc/jit"
	cp -a "$T/pristine/jit" "$T/etc/jit"
	"$JITCTL" --config "$CONF" init >/dev/null 2>&1 || echo "#   reset: jitctl init failed" >&3
}

# Keeps a copy of the configuration and keys made by e2e_setup for e2e_reset.
e2e_save_pristine()
{
	install -d -m 0755 "$T/pristine"
	cp -a "$T/etc/jit" "$T/pristine/jit"
}

# Runs case NAME in a subshell and returns 0 when it passed.
e2e_run_case()
{
	local name=$1 fails passes

	: >"$T/case.fails"
	: >"$T/case.passes"
	e2e_reset 3>&1
	(
		cd "$T" || exit 1
		"$name"
	) 3>&1 </dev/null
	fails=$(wc -l <"$T/case.fails")
	passes=$(wc -l <"$T/case.passes")
	if [ "$fails" -eq 0 ] && [ "$passes" -eq 0 ]; then
		echo "#   the case ran no check"
		return 1
	fi
	[ "$fails" -eq 0 ]
}

pass()
{
	echo x >>"$T/case.passes"
}

# Records a failed check; the reason is printed at once.
fail()
{
	echo "#   $*" >&3
	echo x >>"$T/case.fails"
}

# Prints TEXT shortened to 600 bytes on one line, for failure messages.
e2e_quote()
{
	printf '%s' "$1" | head -c 600 | tr '\n' '|'
}

expect_success()
{
	local what=$1 status=$2 output=${3:-}

	if [ "$status" -eq 0 ]; then
		pass
	else
		fail "$what: exit status $status, expected 0; output: $(e2e_quote "$output")"
	fi
}

expect_failure()
{
	local what=$1 status=$2 output=${3:-}

	if [ "$status" -ne 0 ]; then
		pass
	else
		fail "$what: exit status 0, expected a failure; output: $(e2e_quote "$output")"
	fi
}

expect_eq()
{
	local what=$1 expected=$2 actual=$3

	if [ "$expected" = "$actual" ]; then
		pass
	else
		fail "$what: expected '$(e2e_quote "$expected")', got '$(e2e_quote "$actual")'"
	fi
}

# Passes when TEXT matches the extended regular expression REGEX.
expect_match()
{
	local what=$1 text=$2 regex=$3

	if printf '%s\n' "$text" | grep -Eq -- "$regex"; then
		pass
	else
		fail "$what: no match for /$regex/ in: $(e2e_quote "$text")"
	fi
}

expect_no_match()
{
	local what=$1 text=$2 regex=$3

	if printf '%s\n' "$text" | grep -Eq -- "$regex"; then
		fail "$what: unexpected match for /$regex/ in: $(e2e_quote "$text")"
	else
		pass
	fi
}

# Waits for a jit event after CURSOR matching FIELD=VALUE arguments and
# keeps the newest one in EV (a JSON object); an empty EV means none came.
expect_event()
{
	local what=$1 cursor=$2 out

	shift 2
	EV=
	if out=$(ev_wait "$cursor" "$@"); then
		EV=$(printf '%s\n' "$out" | tail -n 1)
		pass
	else
		fail "$what: no jit event with $* within 5 s"
	fi
}

# Checks FIELD of the event in EV.
expect_event_field()
{
	local field=$1 expected=$2 actual

	actual=$(printf '%s' "$EV" | ev_field "$field")
	expect_eq "event field $field" "$expected" "$actual"
}

# Issues a grant with jitctl and prints its id; a failure is a failed check.
issue()
{
	local out status

	out=$(jitctl grant "$@" --reason "e2e ${FUNCNAME[1]}" 2>&1)
	status=$?
	if [ "$status" -ne 0 ] || ! printf '%s' "$out" | grep -Eqx '[0-9a-f]{32}'; then
		fail "jitctl grant $*: exit status $status, output: $(e2e_quote "$out")"
		return 1
	fi
	pass
	printf '%s\n' "$out"
}

# Runs a command as USER and keeps its combined output in OUT and status in RC.
run_as()
{
	OUT=$(as_user "$@" 2>&1)
	RC=$?
}

# Prints the decoded length in bytes of a grant exported as a text token.
token_blob_length()
{
	local b64=${1#jitg1.}

	echo $(( ${#b64} * 3 / 4 ))
}

# Waits for an access-denied event of USER after CURSOR and checks its reason.
expect_denied_event()
{
	local cursor=$1 user=$2 reason=$3

	expect_event "access-denied event for $user" "$cursor" \
		JIT_EVENT=access-denied JIT_USER="$user"
	[ -n "$EV" ] && expect_event_field JIT_DENY_REASON "$reason"
}

# Runs "pam-call OPTIONS... SERVICE USER" with the namespace's module and
# config (SERVICE defaults to jit-test) and keeps the code in OUT (stdout),
# the conversation in ERR and the exit status in RC.
pam_account()
{
	local user=$1 service=${2:-jit-test}

	shift $(( $# < 2 ? $# : 2 ))
	OUT=$(timeout 30 "$PAM_CALL" "$@" "$service" "$user" "$T/lib/pam_jit.so" \
		"config=$CONF" 2>"$T/pam-call.err")
	RC=$?
	ERR=$(cat "$T/pam-call.err")
}

# Checks that pam-call printed a denial: any code but PAM_SUCCESS and
# PAM_IGNORE (an ignore would let the rest of a stack decide).
expect_pam_denied()
{
	local what=$1

	if [ "$RC" -eq 0 ] && [ -n "$OUT" ] && [ "$OUT" != PAM_SUCCESS ] && [ "$OUT" != PAM_IGNORE ]; then
		pass
	else
		fail "$what: pam-call exit status $RC, code '$OUT', expected a denial; stderr: $(e2e_quote "$ERR")"
	fi
}

# Starts a case step from an empty store (keys and configuration kept).
fresh_store()
{
	rm -rf "$STORE" /run/jit/ts
	"$JITCTL" --config "$CONF" init >/dev/null 2>&1 || fail "jitctl init failed"
}
