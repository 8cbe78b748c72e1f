# End-to-end cases for events, read back from the private systemd-journald.

# MESSAGE_ID of each event type; they never change once released.
declare -A EVENT_MESSAGE_ID=(
	[access-allowed]=503d95e270c049ff98b4836fc6acef1f
	[access-denied]=c01ce38c8b744db6befe7002db254cbf
	[grant-issued]=b97530e66b7e4f9abb9de2fd56b468b1
	[grant-imported]=9170ffa1d243439cb49a21b776d73770
	[grant-revoked]=4c03db0af7f7440ebdde9da749a7d29e
	[grant-removed]=c5ae4864b4714d7eb7056c8f2de611a3
)

# Fields an event may carry besides JIT_* and the fields journald adds,
# which start with "_": the user fields of systemd.journal-fields(7).
# libsystemd's sd_journal_sendv() adds CODE_FILE, CODE_LINE and CODE_FUNC
# unless SD_JOURNAL_SUPPRESS_LOCATION is defined.
EVENT_STANDARD_FIELDS='^(MESSAGE|MESSAGE_ID|PRIORITY|CODE_FILE|CODE_LINE|CODE_FUNC|ERRNO|SYSLOG_IDENTIFIER|SYSLOG_FACILITY|SYSLOG_PID)$'

# Waits for event TYPE of USER with GRANT_ID after CURSOR and checks the
# fields every event carries. Leaves the event in EV.
check_event()
{
	local cursor=$1 type=$2 user=$3 grant_id=$4 name bad=

	expect_event "$type event for $user" "$cursor" JIT_EVENT="$type" JIT_USER="$user"
	[ -n "$EV" ] || return

	expect_match "$type: MESSAGE" "$(printf '%s' "$EV" | ev_field MESSAGE)" '[a-z]'
	expect_event_field MESSAGE_ID "${EVENT_MESSAGE_ID[$type]}"
	expect_match "$type: PRIORITY" "$(printf '%s' "$EV" | ev_field PRIORITY)" '^[0-7]$'
	expect_event_field SYSLOG_IDENTIFIER jit
	expect_event_field JIT_GRANT_ID "$grant_id"

	for name in $(printf '%s' "$EV" | jq -r 'keys[]'); do
		case "$name" in
		_*) ;;
		JIT_*) [[ "$name" =~ ^[A-Z0-9_]+$ ]] || bad+=" $name" ;;
		*) [[ "$name" =~ $EVENT_STANDARD_FIELDS ]] || bad+=" $name" ;;
		esac
	done
	expect_eq "$type: field names outside JIT_[A-Z0-9_]* and the standard ones" "" "$bad"
}

journal_events_read_back()
{
	local cursor id store2=$T/store2 out status

	cursor=$(ev_mark)
	id=$(issue alice --for 5m --command /usr/bin/id) || return
	check_event "$cursor" grant-issued alice "$id"

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_success "sudo -n id" "$RC" "$OUT"
	check_event "$cursor" access-allowed alice "$id"
	expect_event_field JIT_DECISION allow
	expect_event_field JIT_COMMAND /usr/bin/id
	expect_event_field JIT_RUNAS root

	cursor=$(ev_mark)
	run_as alice sudo -n cat /etc/shadow
	expect_failure "sudo -n cat /etc/shadow" "$RC" "$OUT"
	check_event "$cursor" access-denied alice "$id"
	expect_event_field JIT_DECISION deny
	expect_event_field JIT_DENY_REASON out-of-scope
	expect_event_field JIT_COMMAND "/usr/bin/cat /etc/shadow"

	if [ -x "$PAM_CALL" ]; then
		id=$(issue carol --for 5m --service jit-test) || return
		cursor=$(ev_mark)
		pam_account carol
		check_event "$cursor" access-allowed carol "$id"
		expect_event_field JIT_DECISION allow
		expect_event_field JIT_SERVICE jit-test
	else
		fail "pam-call was not built"
	fi

	id=$(issue bob --for 5m --command /usr/bin/id) || return
	cursor=$(ev_mark)
	out=$(jitctl revoke "$id" --reason "e2e revocation" 2>&1)
	status=$?
	expect_success "jitctl revoke" "$status" "$out"
	check_event "$cursor" grant-revoked bob "$id"
	expect_event_field JIT_REASON "e2e revocation"

	id=$(issue dave --for 2s --command /usr/bin/id) || return
	sleep 3
	cursor=$(ev_mark)
	out=$(jitctl reap 2>&1)
	status=$?
	expect_success "jitctl reap" "$status" "$out"
	check_event "$cursor" grant-removed dave "$id"

	# Export from the store and import into a second one that trusts the
	# same key.
	id=$(issue erin --for 5m --command /usr/bin/id) || return
	e2e_write_config "$T/etc/jit/second.conf" "$store2" \
		"$T/etc/jit/issuer.key" "$T/etc/jit/trusted.d"
	out=$("$JITCTL" --config "$T/etc/jit/second.conf" init 2>&1)
	status=$?
	expect_success "jitctl init of a second store" "$status" "$out"
	cursor=$(ev_mark)
	out=$(jitctl export "$id" | "$JITCTL" --config "$T/etc/jit/second.conf" import 2>&1)
	status=$?
	expect_success "jitctl export | jitctl import" "$status" "$out"
	check_event "$cursor" grant-imported erin "$id"
}

# Prints a text of about 100 KB made of numbered lines.
long_argument()
{
	local i

	for i in $(seq 2200); do
		printf 'argument %s line %05d of a long command line\n' "$1" "$i"
	done
}

journal_gone_or_slow_still_decides()
{
	local cursor full length digest start first second
	local socket=/run/systemd/journal/socket

	# No journald socket: the event goes to syslog, which the still running
	# journald receives on its /dev/log socket with facility authpriv (10).
	cursor=$(ev_mark)
	mv "$socket" "$socket.away"
	run_as bob sudo -n id
	mv "$socket.away" "$socket"
	expect_failure "sudo -n id without grant and without the journal socket" "$RC" "$OUT"
	expect_event "access-denied event through syslog" "$cursor" \
		--select '.MESSAGE | text | test("JIT_EVENT=\"?access-denied")' SYSLOG_FACILITY=10

	# journald stopped: the decision does not wait for it.
	issue alice --for 5m --command /usr/bin/true >/dev/null || return
	kill -STOP "$E2E_JOURNALD_PID"
	start=$(date +%s)
	OUT=$(timeout 5 runuser -u alice -- sudo -n true 2>&1)
	RC=$?
	kill -CONT "$E2E_JOURNALD_PID"
	expect_success "sudo -n true while journald is stopped (within 5 s)" "$RC" "$OUT"

	# An argument list of about 200 KB with newlines, as two arguments
	# because Linux limits one argument to 128 KiB.
	first=$(long_argument one)
	second=$(long_argument two)
	full="/usr/bin/true $first $second"
	length=$(printf '%s' "$full" | wc -c)
	digest=$(printf '%s' "$full" | sha256sum | cut -d' ' -f1)

	cursor=$(ev_mark)
	run_as alice sudo -n /usr/bin/true "$first" "$second"
	expect_success "sudo -n /usr/bin/true with 200 KB of arguments" "$RC" "$OUT"
	expect_event "access-allowed event" "$cursor" JIT_EVENT=access-allowed JIT_USER=alice
	[ -n "$EV" ] || return
	expect_eq "JIT_COMMAND cut to 4096 bytes" 4096 \
		"$(printf '%s' "$EV" | ev_field JIT_COMMAND | wc -c)"
	expect_eq "JIT_COMMAND is the start of the command line" \
		"$(printf '%s' "$full" | head -c 4096 | sha256sum)" \
		"$(printf '%s' "$EV" | ev_field JIT_COMMAND | sha256sum)"
	expect_event_field JIT_COMMAND_LENGTH "$length"
	expect_event_field JIT_COMMAND_SHA256 "$digest"
}
