# End-to-end cases for requests, approvals, break-glass and notifications,
# with the broker started as systemd starts it: systemd-socket-activate
# accepts each connection on $T/broker.sock and runs one "jitctl broker"
# with the connection as standard input and output. Unprivileged users
# run jitctl through runuser, so every step crosses the socket.
#
# Users (lib.sh): alice and bob are engineers, frank and grace are in
# dba-leads (the approvers), heidi is in jit-break-glass.

REQ_SOCKET_NAME=broker.sock

# Writes the namespace's configuration with the broker socket in $T, the
# notify command NOTIFY (when given) and the roles these cases use:
#   db-admin  /usr/bin/id; alice and frank request, dba-leads approve;
#             reasons must name an incident; at most 1h
#   db-two    /usr/bin/whoami; needs two approvals from dba-leads
#   quick     /usr/bin/id; requests expire after 2 s undecided
req_write_config()
{
	local notify=${1:-}

	e2e_write_config "$CONF" "$STORE" "$T/etc/jit/issuer.key" "$T/etc/jit/trusted.d"
	sed -i "/^\[jit\]/a broker_socket = $T/$REQ_SOCKET_NAME" "$CONF"
	if [ -n "$notify" ]; then
		sed -i "/^\[jit\]/a notify_command = $notify" "$CONF"
	fi
	cat >>"$CONF" <<-EOF

	[role db-admin]
	commands = /usr/bin/id
	requesters = alice, frank
	approvers = %dba-leads
	reason_pattern = ^INC-[0-9]+
	default_duration = 30m
	max_duration = 1h

	[role db-two]
	commands = /usr/bin/whoami
	requesters = alice
	approvers = %dba-leads
	approvals = 2
	max_duration = 1h

	[role quick]
	commands = /usr/bin/id
	requesters = alice
	approvers = frank
	request_ttl = 2s
	EOF
}

# Starts the broker behind $T/broker.sock, as jit-broker.socket would, and
# opens the socket to every user (SocketMode=0666 in the unit).
req_start_broker()
{
	local socket=$T/$REQ_SOCKET_NAME i

	command -v systemd-socket-activate >/dev/null ||
		{ fail "systemd-socket-activate not found"; return 1; }
	rm -f "$socket"
	systemd-socket-activate --accept --inetd -l "$socket" \
		"$JITCTL" --config "$CONF" broker </dev/null >>"$T/broker.log" 2>&1 &
	E2E_BROKER_PID=$!
	for i in $(seq 100); do
		[ -S "$socket" ] && break
		sleep 0.05
	done
	if ! [ -S "$socket" ]; then
		fail "the broker socket $socket did not appear: $(e2e_quote "$(cat "$T/broker.log")")"
		return 1
	fi
	chmod 0666 "$socket"
}

req_stop_broker()
{
	local i

	[ -n "${E2E_BROKER_PID:-}" ] || return 0
	kill -TERM "$E2E_BROKER_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$E2E_BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$E2E_BROKER_PID" 2>/dev/null
	wait "$E2E_BROKER_PID" 2>/dev/null
	E2E_BROKER_PID=
	rm -f "$T/$REQ_SOCKET_NAME"
}

# Every case starts here: configuration, broker, and the broker stopped
# when the case's subshell exits.
req_setup()
{
	req_write_config "$@"
	trap req_stop_broker EXIT
	req_start_broker
}

# Runs "jitctl ARGS..." as USER; output in OUT, status in RC.
req_as()
{
	local user=$1

	shift
	run_as "$user" "$JITCTL" --config "$CONF" "$@"
}

# alice asks for db-admin (or ROLE) and prints the request id.
req_new()
{
	local role=${1:-db-admin} reason=${2:-INC-4821 disk full}

	req_as alice request --role "$role" --for 10m --reason "$reason"
	if [ "$RC" -ne 0 ] || ! printf '%s' "$OUT" | grep -Eqx '[0-9a-f]{32}'; then
		fail "alice request --role $role: exit status $RC, output: $(e2e_quote "$OUT")"
		return 1
	fi
	pass
	printf '%s\n' "$OUT"
}

# Sends the raw bytes on stdin to the broker as USER and prints its response.
req_send_raw()
{
	local user=$1

	timeout 20 runuser -u "$user" -- socat -t 15 - "UNIX-CONNECT:$T/$REQ_SOCKET_NAME"
}

request_approve_then_sudo()
{
	local cursor id grant

	req_setup || return
	run_as alice sudo -n id -un
	expect_failure "sudo -n id before any request" "$RC" "$OUT"
	expect_match "the denial names jitctl request" "$OUT" \
		'jitctl request --role db-admin --for 30m --reason'

	cursor=$(ev_mark)
	id=$(req_new) || return
	expect_event "request-created event" "$cursor" \
		JIT_EVENT=request-created JIT_REQUEST_ID="$id"
	expect_event_field MESSAGE_ID e5cabc504533466385828828fbe5aa95
	expect_event_field JIT_USER alice
	expect_event_field JIT_ACTOR alice
	expect_event_field JIT_ROLE db-admin
	expect_event_field JIT_REASON "INC-4821 disk full"

	run_as alice sudo -n id -un
	expect_failure "sudo -n id while the request is pending" "$RC" "$OUT"
	req_as frank requests
	expect_success "frank lists requests" "$RC" "$OUT"
	expect_match "frank sees the pending request" "$OUT" "^$id +pending +db-admin +alice "
	req_as bob requests
	expect_no_match "bob, neither requester nor approver, does not" "$OUT" "$id"

	cursor=$(ev_mark)
	req_as frank approve "$id" --reason "checked the ticket"
	expect_success "frank approves" "$RC" "$OUT"
	expect_match "the approval issues the grant" "$OUT" \
		"^request $id approved: grant [0-9a-f]{32} issued to alice, valid until "
	grant=$(printf '%s' "$OUT" | sed -n 's/.*grant \([0-9a-f]\{32\}\) issued.*/\1/p')
	expect_event "request-approved event" "$cursor" \
		JIT_EVENT=request-approved JIT_REQUEST_ID="$id"
	expect_event_field MESSAGE_ID 1e145f52b90c4da39fe43a7bfd803a39
	expect_event_field JIT_ACTOR frank
	expect_event_field JIT_GRANT_ID "$grant"
	expect_event_field JIT_DETAIL "approval 1 of 1"
	expect_event "grant-issued event of the request" "$cursor" \
		JIT_EVENT=grant-issued JIT_GRANT_ID="$grant"
	expect_event_field JIT_REQUEST_ID "$id"

	run_as alice sudo -n id -un
	expect_success "sudo -n id after approval" "$RC" "$OUT"
	expect_eq "the command ran as root" root "$OUT"

	OUT=$(jitctl show "$grant" 2>&1)
	expect_match "the grant carries the request id" "$OUT" "^request id +$id$"
	expect_match "the grant carries the requester" "$OUT" '^requester +alice$'
	expect_match "the grant carries the approver" "$OUT" '^approvers +frank$'
	expect_match "the grant carries the reason" "$OUT" '^reason +INC-4821 disk full$'
	expect_match "the grant is signed" "$OUT" '^signature +valid$'

	req_as alice list
	expect_success "alice lists her grants through the broker" "$RC" "$OUT"
	expect_match "alice's list shows the grant" "$OUT" "^$grant +alice +db-admin +active "
	req_as alice check alice -- id
	expect_success "alice checks her own access" "$RC" "$OUT"
	expect_match "the check allows with the grant" "$OUT" "^allow \\(grant $grant"
	req_as alice check bob -- id
	expect_failure "alice checks bob's access" "$RC" "$OUT"
	req_as alice requests --all
	expect_match "the request is approved" "$OUT" "^$id +approved "
}

request_self_approval_refused()
{
	local id

	req_setup || return
	req_as frank request --role db-admin --for 10m --reason "INC-7 reindex"
	expect_success "frank requests db-admin" "$RC" "$OUT"
	id=$OUT

	req_as frank approve "$id"
	expect_failure "frank approves his own request" "$RC" "$OUT"
	expect_match "the refusal says why" "$OUT" 'may not approve their own request'
	run_as frank sudo -n id
	expect_failure "frank has no grant" "$RC" "$OUT"

	req_as grace approve "$id"
	expect_success "grace approves frank's request" "$RC" "$OUT"
	run_as frank sudo -n id
	expect_success "frank's grant works" "$RC" "$OUT"
}

request_two_approvals_distinct()
{
	local id

	req_setup || return
	id=$(req_new db-two) || return

	req_as frank approve "$id"
	expect_success "frank approves" "$RC" "$OUT"
	expect_match "one of two approvals" "$OUT" "^request $id: approval 1 of 2 recorded"
	run_as alice sudo -n whoami
	expect_failure "sudo after one of two approvals" "$RC" "$OUT"

	req_as frank approve "$id"
	expect_failure "frank approves again" "$RC" "$OUT"
	expect_match "the same approver counts once" "$OUT" 'frank already approved'
	run_as alice sudo -n whoami
	expect_failure "sudo after the same approver twice" "$RC" "$OUT"

	req_as grace approve "$id"
	expect_success "grace approves" "$RC" "$OUT"
	expect_match "the second approval issues the grant" "$OUT" 'approved: grant'
	run_as alice sudo -n whoami
	expect_success "sudo after two distinct approvals" "$RC" "$OUT"
	OUT=$(jitctl list --all --json 2>&1)
	expect_eq "the grant names both approvers" '["frank","grace"]' \
		"$(printf '%s' "$OUT" | jq -c '.[0].approvers')"
}

request_outside_requesters_refused()
{
	req_setup || return
	req_as bob request --role db-admin --for 10m --reason "INC-1 curious"
	expect_failure "bob requests db-admin" "$RC" "$OUT"
	expect_match "the refusal names the requesters" "$OUT" 'bob may not request role db-admin: not in its requesters'
	OUT=$(jitctl requests --all 2>&1)
	expect_eq "nothing was stored" "no requests" "$OUT"
}

request_reason_pattern_refused()
{
	req_setup || return
	req_as alice request --role db-admin --for 10m --reason "disk full"
	expect_failure "a reason without an incident" "$RC" "$OUT"
	expect_match "the refusal names the pattern" "$OUT" "does not match role db-admin's reason_pattern"
}

request_duration_above_max_refused()
{
	req_setup || return
	req_as alice request --role db-admin --for 2h --reason "INC-2 long job"
	expect_failure "2h on a role capped at 1h" "$RC" "$OUT"
	expect_match "the refusal names the cap" "$OUT" 'above the maximum of 1h'
	req_as alice request --role db-admin --for 0 --reason "INC-2 nothing"
	expect_failure "a zero duration" "$RC" "$OUT"
}

request_expired_not_approvable()
{
	local id cursor

	req_setup || return
	id=$(req_new quick) || return
	sleep 3
	cursor=$(ev_mark)
	req_as frank approve "$id"
	expect_failure "approving an expired request" "$RC" "$OUT"
	expect_match "the refusal says it expired" "$OUT" "request $id is expired"
	expect_event "request-expired event" "$cursor" \
		JIT_EVENT=request-expired JIT_REQUEST_ID="$id"
	expect_event_field MESSAGE_ID c55e7be0004f4396b57fb4221f1cdbf1
	expect_event_field JIT_USER alice
	run_as alice sudo -n id
	expect_failure "no grant from an expired request" "$RC" "$OUT"
	req_as alice requests --all
	expect_match "alice sees it expired" "$OUT" "^$id +expired "
}

request_cancel_and_deny()
{
	local id cursor

	req_setup || return
	id=$(req_new) || return
	req_as bob cancel "$id"
	expect_failure "bob cancels alice's request" "$RC" "$OUT"
	cursor=$(ev_mark)
	req_as alice cancel "$id" --reason "fixed it myself"
	expect_success "alice cancels her request" "$RC" "$OUT"
	expect_event "request-cancelled event" "$cursor" \
		JIT_EVENT=request-cancelled JIT_REQUEST_ID="$id"
	expect_event_field JIT_ACTOR alice
	req_as frank approve "$id"
	expect_failure "approving a cancelled request" "$RC" "$OUT"
	expect_match "the refusal says it was cancelled" "$OUT" 'is cancelled'

	id=$(req_new) || return
	req_as frank deny "$id"
	expect_failure "deny without a reason" "$RC" "$OUT"
	cursor=$(ev_mark)
	req_as frank deny "$id" --reason "use the read replica"
	expect_success "frank denies" "$RC" "$OUT"
	expect_event "request-denied event" "$cursor" \
		JIT_EVENT=request-denied JIT_REQUEST_ID="$id"
	expect_event_field MESSAGE_ID 825e468f204346dbbc5c9a7d43f2e6e0
	expect_event_field JIT_ACTOR frank
	expect_event_field JIT_DETAIL "use the read replica"
	req_as grace approve "$id"
	expect_failure "approving a denied request" "$RC" "$OUT"
	req_as alice requests --all --json
	expect_eq "alice sees the denial and its reason" "denied use the read replica" \
		"$(printf '%s' "$OUT" | jq -r --arg id "$id" '.[] | select(.id == $id) | "\(.state) \(.note)"')"
}

approver_grants_through_broker()
{
	local id

	req_setup || return
	req_as frank grant alice --role db-admin --for 10m --reason "INC-9 direct"
	expect_success "frank grants alice db-admin" "$RC" "$OUT"
	id=$OUT
	run_as alice sudo -n id
	expect_success "alice's grant from an approver works" "$RC" "$OUT"
	OUT=$(jitctl show "$id" 2>&1)
	expect_match "the grant names frank as approver" "$OUT" '^approvers +frank$'

	req_as frank grant frank --role db-admin --for 10m --reason "INC-9 me too"
	expect_failure "frank grants himself" "$RC" "$OUT"
	expect_match "the refusal says why" "$OUT" 'may not issue a grant to themselves'
	req_as bob grant alice --role db-admin --for 10m --reason "INC-9 helping"
	expect_failure "bob, not an approver, grants" "$RC" "$OUT"
	req_as frank grant alice --for 10m --reason "INC-9 anything" --command ALL
	expect_failure "an approver grants without a role" "$RC" "$OUT"
}

break_glass_member_flagged()
{
	local cursor id

	req_setup || return
	req_as heidi break-glass --for 2h --reason "primary down"
	expect_failure "break-glass above its cap" "$RC" "$OUT"
	expect_match "the refusal names the cap" "$OUT" 'above the maximum of 1h'
	req_as heidi break-glass --for 10m
	expect_failure "break-glass without a reason" "$RC" "$OUT"

	cursor=$(ev_mark)
	req_as heidi break-glass --for 10m --reason "primary down, paging failed"
	expect_success "heidi uses break-glass" "$RC" "$OUT"
	id=$OUT
	expect_event "break-glass-used event" "$cursor" \
		JIT_EVENT=break-glass-used JIT_GRANT_ID="$id"
	expect_event_field MESSAGE_ID c770ba27eaff4557b1d9dc56bd97da26
	expect_event_field PRIORITY 1
	expect_event_field JIT_USER heidi
	expect_event_field JIT_REASON "primary down, paging failed"

	run_as heidi sudo -n cat /etc/shadow
	expect_success "the break-glass grant allows any command" "$RC" "$OUT"
	run_as heidi sudo -n -l
	expect_match "sudo -l flags it" "$OUT" "grant $id, role direct, break-glass, unreviewed"
	OUT=$(jitctl list 2>&1)
	expect_match "jitctl list flags it" "$OUT" "^$id: break-glass, unreviewed"
	OUT=$(jitctl show "$id" 2>&1)
	expect_match "jitctl show flags it" "$OUT" '^break-glass +yes, unreviewed$'
	req_as heidi list
	expect_match "heidi's own list flags it" "$OUT" "^$id: break-glass, unreviewed"

	req_as heidi review "$id" --note "all fine"
	expect_failure "heidi reviews her own grant" "$RC" "$OUT"
	req_as bob review "$id" --note "all fine"
	expect_failure "bob, no approver, reviews" "$RC" "$OUT"
	cursor=$(ev_mark)
	req_as frank review "$id" --note "failover runbook followed"
	expect_success "frank reviews" "$RC" "$OUT"
	expect_event "grant-reviewed event" "$cursor" \
		JIT_EVENT=grant-reviewed JIT_GRANT_ID="$id"
	expect_event_field JIT_ACTOR frank
	expect_event_field JIT_DETAIL "failover runbook followed"
	req_as frank review "$id" --note "again"
	expect_failure "a second review" "$RC" "$OUT"

	OUT=$(jitctl list 2>&1)
	expect_no_match "jitctl list no longer flags it" "$OUT" 'unreviewed'
	OUT=$(jitctl show "$id" 2>&1)
	expect_match "jitctl show names the review" "$OUT" '^reviewed by +frank at .*: failover runbook followed$'
	run_as heidi sudo -n -l
	expect_match "sudo -l shows it reviewed" "$OUT" "grant $id, role direct, break-glass, reviewed"
}

break_glass_non_member_refused()
{
	req_setup || return
	req_as alice break-glass --for 10m --reason "need root"
	expect_failure "alice, not in jit-break-glass, uses break-glass" "$RC" "$OUT"
	expect_match "the refusal names the group" "$OUT" 'not a member of group jit-break-glass'
	run_as alice sudo -n id
	expect_failure "alice has no grant" "$RC" "$OUT"
}

# Checks a response line from the broker: ok false with code CODE.
expect_refusal()
{
	local what=$1 response=$2 code=$3

	expect_eq "$what: ok" false "$(printf '%s' "$response" | jq -r '.ok' 2>/dev/null)"
	expect_eq "$what: code" "$code" "$(printf '%s' "$response" | jq -r '.code' 2>/dev/null)"
}

broker_bad_messages_keep_serving()
{
	local response start elapsed

	req_setup || return
	command -v socat >/dev/null || { fail "socat not found (run scripts/deps)"; return; }

	response=$(head -c 70000 /dev/zero | tr '\0' a | req_send_raw alice)
	expect_refusal "a 70000-byte message" "$response" too-large
	response=$(printf '{"v":1,"op":"requests","all":tr' | req_send_raw alice)
	expect_refusal "a truncated message" "$response" malformed
	expect_match "the truncation is named" "$response" 'ends before'
	response=$(printf 'request db-admin please\n' | req_send_raw alice)
	expect_refusal "a message that is not JSON" "$response" malformed
	response=$(printf '{"v":1,"op":"become-root"}\n' | req_send_raw alice)
	expect_refusal "an unknown operation" "$response" malformed
	response=$(printf '{"v":1,"op":"list","user":"root"}\n' | req_send_raw alice)
	expect_refusal "a field the operation does not take" "$response" malformed
	response=$(printf '{"v":1,"op":"request","role":"db-admin","reason":5}\n' | req_send_raw alice)
	expect_refusal "a number where a string belongs" "$response" malformed
	response=$(printf '{"v":2,"op":"requests"}\n' | req_send_raw alice)
	expect_refusal "another protocol version" "$response" malformed

	start=$(date +%s)
	response=$(timeout 20 runuser -u alice -- socat -u "UNIX-CONNECT:$T/$REQ_SOCKET_NAME" -)
	elapsed=$(( $(date +%s) - start ))
	expect_refusal "a client that sends nothing" "$response" io-error
	expect_match "the broker waited its time limit, not longer" "$elapsed" '^(9|10|11|12)$'

	response=$(printf '{"v":1,"op":"requests"}\n' | req_send_raw alice)
	expect_eq "a good message afterwards" true "$(printf '%s' "$response" | jq -r '.ok' 2>/dev/null)"
	req_new >/dev/null
	kill -0 "$E2E_BROKER_PID" 2>/dev/null
	expect_success "the socket listener is still running" $?
}

# A notify command that appends each JSON object it gets to a file.
req_install_notifier()
{
	install -d -m 0755 "$T/notify"
	install -o root -g root -m 0755 /dev/null "$T/bin/notify-record"
	cat >"$T/bin/notify-record" <<-EOF
	#!/bin/sh
	cat >>"$T/notify/events"
	echo >>"$T/notify/events"
	EOF
	install -o root -g root -m 0755 /dev/null "$T/bin/notify-hang"
	cat >"$T/bin/notify-hang" <<-'EOF'
	#!/bin/sh
	cat >/dev/null
	exec sleep 60
	EOF
}

# Waits up to 5 s for a notification with JIT_EVENT=TYPE and prints it.
req_wait_notification()
{
	local type=$1 i line

	for i in $(seq 50); do
		line=$(jq -c --arg t "$type" 'select(.JIT_EVENT == $t)' \
			"$T/notify/events" 2>/dev/null | tail -n 1)
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

notify_command_gets_json()
{
	local id note

	req_install_notifier
	req_setup "$T/bin/notify-record" || return
	id=$(req_new) || return
	note=$(req_wait_notification request-created)
	expect_success "the notify command got request-created" $? "$(cat "$T/notify/events" 2>&1)"
	expect_eq "its request id" "$id" "$(printf '%s' "$note" | jq -r .JIT_REQUEST_ID)"
	expect_eq "its MESSAGE_ID" e5cabc504533466385828828fbe5aa95 \
		"$(printf '%s' "$note" | jq -r .MESSAGE_ID)"
	expect_eq "its user" alice "$(printf '%s' "$note" | jq -r .JIT_USER)"

	req_as frank approve "$id"
	expect_success "frank approves" "$RC" "$OUT"
	note=$(req_wait_notification request-approved)
	expect_eq "request-approved names the approver" frank \
		"$(printf '%s' "$note" | jq -r .JIT_ACTOR)"
	req_as heidi break-glass --for 5m --reason "notify check"
	note=$(req_wait_notification break-glass-used)
	expect_eq "break-glass-used has the alert priority" 1 \
		"$(printf '%s' "$note" | jq -r .PRIORITY)"
}

notify_command_hang_does_not_block()
{
	local id start elapsed cursor i

	req_install_notifier
	req_setup "$T/bin/notify-hang" || return
	id=$(req_new) || return

	cursor=$(ev_mark)
	start=$(date +%s%N)
	req_as frank approve "$id"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_success "frank approves while the notifier hangs" "$RC" "$OUT"
	if [ "$elapsed" -lt 5000 ]; then
		pass
	else
		fail "the approval took $elapsed ms with a notifier that sleeps 60 s; expected under 5000 ms"
	fi
	run_as alice sudo -n id
	expect_success "the grant works at once" "$RC" "$OUT"

	sleep 5
	expect_event "the killed notifier is logged" "$cursor" \
		--select '(.MESSAGE // "" | tostring | test("notify command .* killed after 5000 ms"))' \
		SYSLOG_IDENTIFIER=jit-broker
	# The approval's two events each ran the notifier for 5 s at most.
	for i in $(seq 100); do
		pgrep -f '^sleep 60$' >/dev/null || break
		sleep 0.1
	done
	if pgrep -f '^sleep 60$' >/dev/null; then
		fail "a notifier's sleep still runs after its time limit"
	else
		pass
	fi
}

# systemd-analyze verify and an exposure score for the broker's units, with
# ExecStart pointing at the built jitctl.
broker_units_verify()
{
	local dir=$T/broker-units out score

	command -v systemd-analyze >/dev/null || { fail "systemd-analyze not found"; return; }
	install -d "$dir"
	sed "s#^ExecStart=[^ ]*#ExecStart=$JITCTL#" \
		"$E2E_SRC/packaging/systemd/jit-broker@.service.in" >"$dir/jit-broker@.service"
	cp "$E2E_SRC/packaging/systemd/jit-broker.socket" "$dir/"
	out=$(timeout 60 systemd-analyze verify --man=no "$dir/jit-broker.socket" \
		"$dir/jit-broker@.service" 2>&1)
	expect_success "systemd-analyze verify of the broker units" $? "$out"
	expect_eq "systemd-analyze verify prints nothing" "" "$out"
	expect_match "the socket accepts per connection" \
		"$(cat "$dir/jit-broker.socket")" '^Accept=yes$'

	out=$(timeout 60 systemd-analyze security --offline=true "$dir/jit-broker@.service" 2>&1)
	score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		pass
	else
		fail "systemd-analyze security jit-broker@.service: exposure '$score', expected at most 2.0"
	fi
}
