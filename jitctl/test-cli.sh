#!/bin/bash
# Drives the built jitctl through every command in a scratch folder and
# checks exit statuses, output and events.
#
#   test-cli.sh JITCTL
#
# Needs root (the writing commands refuse anyone else) and runs itself again
# inside a private mount namespace, where a tmpfs hides /run/systemd and a
# small listener takes journald's place. Events therefore never reach the
# host's journal or syslog. Without python3 for the listener, the event
# checks are skipped. Exit status 77 means skipped (meson's convention).

set -u

JITCTL_BIN=${1:?usage: test-cli.sh JITCTL}

if [ "$(id -u)" -ne 0 ]; then
	echo "skipping: jitctl's writing commands need root"
	exit 77
fi

if [ -z "${JITCTL_TEST_IN_NAMESPACE:-}" ]; then
	command -v unshare >/dev/null || { echo "skipping: unshare not found"; exit 77; }
	JITCTL_TEST_IN_NAMESPACE=1 exec unshare -m --propagation private "$0" "$@"
fi

failures=0
checks=0

pass() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# expect_status NAME EXPECTED ACTUAL OUTPUT
expect_status()
{
	if [ "$2" -eq "$3" ]; then
		pass
	else
		fail "$1: exit status $3, expected $2; output: $4"
	fi
}

# expect_match NAME TEXT EXTENDED-REGEX
expect_match()
{
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass
	else
		fail "$1: output does not match /$3/: $2"
	fi
}

expect_eq()
{
	if [ "$2" = "$3" ]; then
		pass
	else
		fail "$1: got '$3', expected '$2'"
	fi
}

# run ARGS...: runs jitctl with the test configuration; sets OUT (stdout),
# ERR (stderr) and RC.
run()
{
	OUT=$("$JITCTL" --config "$CONF" "$@" 2>"$T/stderr")
	RC=$?
	ERR=$(cat "$T/stderr")
}

run_with()
{
	local conf=$1

	shift
	OUT=$("$JITCTL" --config "$conf" "$@" 2>"$T/stderr")
	RC=$?
	ERR=$(cat "$T/stderr")
}

T=$(mktemp -d /tmp/jitctl-test.XXXXXX) || exit 1
chmod 0755 "$T"
LISTENER_PID=

cleanup()
{
	[ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# Copy the binary where an unprivileged user can run it.
install -m 0755 "$JITCTL_BIN" "$T/jitctl"
JITCTL=$T/jitctl

# write_config PATH DIR: a configuration whose files all live under DIR.
write_config()
{
	cat >"$1" <<-EOF
	[jit]
	store = $2/store
	issuer_key = $2/keys/issuer.key
	trusted_keys = $2/trusted.d
	hostname = web1
	max_duration = 8h

	[role web-restart]
	commands = /usr/bin/systemctl restart nginx, /usr/bin/journalctl
	hosts = web*
	max_duration = 1h

	[role db]
	runas = postgres
	commands = /usr/bin/psql, /usr/bin/pg_dump ""
	services = sshd
	EOF
	chmod 0644 "$1"
}

mkdir -m 0755 "$T/a" "$T/b"
CONF=$T/a/jit.conf
CONF_B=$T/b/jit.conf
write_config "$CONF" "$T/a"
write_config "$CONF_B" "$T/b"

start_listener()
{
	EVENTS=$T/events
	: >"$EVENTS"
	mount -t tmpfs -o mode=0755 tmpfs /run/systemd 2>/dev/null ||
		{ mkdir -p /run/systemd && mount -t tmpfs -o mode=0755 tmpfs /run/systemd; } ||
		return 1
	# With no journald socket, events fall back to syslog: hide /dev/log.
	[ -e /dev/log ] && mount --bind /dev/null /dev/log 2>/dev/null
	command -v python3 >/dev/null || return 1

	mkdir -p /run/systemd/journal
	python3 - "$EVENTS" <<-'EOF' &
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind("/run/systemd/journal/socket")
	with open(sys.argv[1], "ab", buffering=0) as out:
	    while True:
	        out.write(s.recv(1 << 20).replace(b"\n", b"|") + b"\n")
	EOF
	LISTENER_PID=$!
	for _ in $(seq 50); do
		[ -S /run/systemd/journal/socket ] && return 0
		sleep 0.1
	done
	return 1
}

# expect_event NAME TYPE GRANT_ID: an event of TYPE names GRANT_ID.
expect_event()
{
	[ -n "$LISTENER_PID" ] || return 0
	sleep 0.2
	if grep -F "JIT_EVENT=$2|" "$EVENTS" | grep -Fq "JIT_GRANT_ID=$3|"; then
		pass
	else
		fail "$1: no $2 event for grant $3"
	fi
}

event_count()
{
	[ -n "$LISTENER_PID" ] || { echo 0; return; }
	sleep 0.2
	grep -c "JIT_EVENT=$1|" "$EVENTS"
}

if ! start_listener; then
	echo "note: no event listener; event checks skipped"
	LISTENER_PID=
fi

test_usage()
{
	OUT=$("$JITCTL" 2>&1); RC=$?
	expect_status "no command" 2 "$RC" "$OUT"
	expect_match "no command: usage hint" "$OUT" '^usage: jitctl'
	OUT=$("$JITCTL" frobnicate 2>&1); RC=$?
	expect_status "unknown command" 2 "$RC" "$OUT"
	OUT=$("$JITCTL" --help); RC=$?
	expect_status "--help" 0 "$RC" "$OUT"
	expect_match "--help lists commands" "$OUT" '^  reap '
	OUT=$("$JITCTL" help); RC=$?
	expect_status "help" 0 "$RC" "$OUT"
	expect_match "help lists commands" "$OUT" '^  reap '
	OUT=$("$JITCTL" help grant); RC=$?
	expect_status "help grant" 0 "$RC" "$OUT"
	expect_match "help grant lists --for" "$OUT" '--for DURATION'
	OUT=$("$JITCTL" help frobnicate 2>&1); RC=$?
	expect_status "help for an unknown command" 2 "$RC" "$OUT"
	OUT=$("$JITCTL" grant --help); RC=$?
	expect_status "grant --help" 0 "$RC" "$OUT"
	expect_match "grant --help lists --for" "$OUT" '--for DURATION'

	run grant alice --reason x --command ALL
	expect_status "grant without --for" 2 "$RC" "$ERR"
	expect_match "grant without --for: message" "$ERR" '^jitctl grant: missing --for'
	run grant alice --for 1h --reason x
	expect_status "direct grant without scope" 2 "$RC" "$ERR"
	run grant alice --for 1h --reason x --command ALL --bogus
	expect_status "unknown option" 2 "$RC" "$ERR"
	run check alice
	expect_status "check without access" 2 "$RC" "$ERR"
	run check alice --service sshd -- /bin/true
	expect_status "check with service and command" 2 "$RC" "$ERR"

	OUT=$("$JITCTL" --config "$T/missing.conf" list 2>&1); RC=$?
	expect_status "missing configuration" 1 "$RC" "$OUT"
	expect_match "missing configuration: names the file" "$OUT" "$T/missing.conf"
}

test_init()
{
	local id again before after

	run init
	expect_status "init" 0 "$RC" "$ERR"
	id=$(printf '%s\n' "$OUT" | sed -n 's/^issuer key id: //p')
	expect_match "init prints the key id" "$id" '^[0-9a-f]{16}$'
	expect_eq "store mode" 700 "$(stat -c %a "$T/a/store")"
	expect_eq "issuer key mode" 600 "$(stat -c %a "$T/a/keys/issuer.key")"
	expect_eq "key folder mode" 755 "$(stat -c %a "$T/a/keys")"
	expect_eq "trusted folder mode" 755 "$(stat -c %a "$T/a/trusted.d")"
	expect_eq "trusted key mode" 644 "$(stat -c %a "$T/a/trusted.d/$id.pub")"

	# Opening the store rewrites LMDB's lock file, so it is left out.
	before=$(find "$T/a" ! -name lock.mdb -printf '%p %m %s %T@\n' | sort)
	run init
	expect_status "init again" 0 "$RC" "$ERR"
	again=$(printf '%s\n' "$OUT" | sed -n 's/^issuer key id: //p')
	expect_eq "init again keeps the key" "$id" "$again"
	after=$(find "$T/a" ! -name lock.mdb -printf '%p %m %s %T@\n' | sort)
	expect_eq "init again changes no file" "$before" "$after"

	# The umask must not change any mode.
	(umask 000 && "$JITCTL" --config "$CONF_B" init >/dev/null 2>&1)
	expect_eq "umask 000: store mode" 700 "$(stat -c %a "$T/b/store")"
	expect_eq "umask 000: issuer key mode" 600 "$(stat -c %a "$T/b/keys/issuer.key")"
	expect_eq "umask 000: trusted folder mode" 755 "$(stat -c %a "$T/b/trusted.d")"
}

test_grant()
{
	local id list

	run grant nosuchuser42 --for 30m --reason "db work" --role db
	expect_status "role grant" 0 "$RC" "$ERR"
	expect_match "grant prints only the id" "$OUT" '^[0-9a-f]{32}$'
	expect_eq "grant prints one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"
	expect_match "unknown user warning" "$ERR" 'warning: no local user "nosuchuser42"'
	if printf '%s' "$ERR" | grep -q 'is a shell'; then
		fail "a role's commands gave a shell warning: $ERR"
	fi
	id=$OUT
	expect_event "grant event" grant-issued "$id"

	run show "$id" --json
	expect_status "show --json" 0 "$RC" "$ERR"
	expect_match "show: role" "$OUT" '"role": "db"'
	expect_match "show: runas from role" "$OUT" '"postgres"'
	expect_match "show: host default" "$OUT" '"web1"'
	expect_match "show: requester" "$OUT" '"requester": "root"'

	run show "$id"
	expect_match "show: exact empty arguments" "$OUT" '/usr/bin/pg_dump ""'
	expect_match "show: any arguments" "$OUT" '^commands +/usr/bin/psql$'

	run grant root --for 2h --reason x --role web-restart
	expect_status "grant over the role's cap" 1 "$RC" "$ERR"
	expect_match "role cap message" "$ERR" 'maximum of 1h'
	run grant root --for 1h --reason x --role nope
	expect_status "unknown role" 1 "$RC" "$ERR"
	run grant root --for 1h --reason x --command ALL --start 2020-01-01T00:00:00Z
	expect_status "past start" 1 "$RC" "$ERR"
	run grant root --for 1h --reason x --command ls
	expect_status "relative command path" 1 "$RC" "$ERR"
	run grant root --for 1h --reason x --command '/bin/ls "" -l'
	expect_status "empty marker with arguments" 1 "$RC" "$ERR"
	run grant 'bad name' --for 1h --reason x --command ALL
	expect_status "invalid user name" 1 "$RC" "$ERR"
	run grant root --for 1h --reason x --command /bin/sh
	expect_status "grant of a shell" 0 "$RC" "$ERR"
	expect_match "shell grant warning" "$ERR" 'warning: /bin/sh is a shell, so this grant allows any command'
	run grant root --for 1h --reason x --command /usr/bin/nosuchprogram42
	expect_status "grant of a missing program" 0 "$RC" "$ERR"
	expect_match "missing program warning" "$ERR" 'warning: no executable /usr/bin/nosuchprogram42 on this host'

	list=$("$JITCTL" --config "$CONF" list --all --json 2>&1)
	for duration in 0 -1 99y 1e30s 9h; do
		run grant root --for "$duration" --reason x --command ALL
		expect_status "grant --for $duration" 1 "$RC" "$ERR"
		expect_match "grant --for $duration: message" "$ERR" '^jitctl grant: .*duration'
	done
	expect_eq "rejected grants leave the store" "$list" \
		"$("$JITCTL" --config "$CONF" list --all --json 2>&1)"
}

test_check_and_revoke()
{
	local id later

	run grant root --for 1h --reason x --command /usr/bin/echo
	id=$OUT
	run grant root --for 1h --reason x --start +2h --command /usr/bin/true
	later=$OUT

	run check root -- echo hi
	expect_status "check allow" 0 "$RC" "$OUT"
	expect_match "check allow line" "$OUT" "^allow \\(grant $id, role direct, expires "
	run check root echo -n hi
	expect_status "options end at CMD" 0 "$RC" "$OUT $ERR"
	run check root --runas daemon echo
	expect_status "check wrong runas" 1 "$RC" "$OUT"
	expect_match "check deny line" "$OUT" '^deny: out-of-scope: '
	run check root --shell
	expect_status "shell needs ALL" 1 "$RC" "$OUT"
	run check root true
	expect_match "not yet valid" "$OUT" '^deny: not-yet-valid: '
	run check root --json -- echo
	expect_match "check --json" "$OUT" '"decision": "allow"'
	run check root no-such-command-here
	expect_status "unresolvable command" 1 "$RC" "$ERR"

	run list --user root
	expect_match "list shows active grant" "$OUT" "^$id +root +direct +active "
	if printf '%s\n' "$OUT" | grep -q "$later"; then
		fail "list shows a grant that is not valid yet"
	else
		pass
	fi
	run list --all
	expect_match "list --all shows not-yet-valid" "$OUT" "^$later .* not-yet-valid "

	run revoke "$id" --reason "done"
	expect_status "revoke" 0 "$RC" "$ERR"
	expect_event "revoke event" grant-revoked "$id"
	run revoke "$id" --reason "again"
	expect_status "revoke twice" 1 "$RC" "$ERR"
	expect_match "revoke twice: message" "$ERR" 'already revoked'
	run revoke 00000000000000000000000000000000 --reason x
	expect_status "revoke unknown id" 1 "$RC" "$ERR"
	run revoke 1234 --reason x
	expect_status "revoke malformed id" 1 "$RC" "$ERR"
	run check root -- echo
	expect_match "check after revoke" "$OUT" '^deny: revoked: '
	run show "$id" --json
	expect_match "show: revocation actor" "$OUT" '"actor": "root"'
}

test_tokens()
{
	local id token before count

	run grant root --for 1h --reason tokens --command /usr/bin/echo
	id=$OUT
	run export "$id"
	expect_status "export" 0 "$RC" "$ERR"
	expect_match "export prints a token" "$OUT" '^jitg1\.[A-Za-z0-9_-]+$'
	token=$OUT

	OUT=$(printf '%s\n' "$token" | "$JITCTL" --config "$CONF" verify 2>&1); RC=$?
	expect_status "verify" 0 "$RC" "$OUT"
	expect_match "verify last line" "$(printf '%s\n' "$OUT" | tail -n 1)" '^valid$'

	run_with "$CONF_B" import <(printf '%s\n' "$token")
	expect_status "import from an untrusted issuer" 1 "$RC" "$ERR"
	cp "$T"/a/trusted.d/*.pub "$T/b/trusted.d/"

	before=$("$JITCTL" --config "$CONF_B" list --all --json 2>&1)
	# Cut signature, trailing bytes, another alphabet, padding, no prefix.
	for bad in "${token%??????}" "${token}AA" "${token:0:20}+${token:21}" \
		   "${token}==" "x${token}"; do
		OUT=$(printf '%s\n' "$bad" | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
		expect_status "import damaged token" 1 "$RC" "$OUT"
		expect_match "import damaged token: message" "$OUT" '^jitctl import: standard input: '
		OUT=$(printf '%s\n' "$bad" | "$JITCTL" --config "$CONF_B" verify 2>&1); RC=$?
		expect_status "verify damaged token" 1 "$RC" "$OUT"
		expect_match "verify damaged token: verdict" "$OUT" '^invalid: '
	done
	OUT=$(printf '%s\0x\n' "$token" | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
	expect_status "import token with NUL" 1 "$RC" "$OUT"
	OUT=$(head -c 200000 /dev/zero | tr '\0' A | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
	expect_status "import oversized input" 1 "$RC" "$OUT"
	expect_eq "damaged tokens leave the store" "$before" \
		"$("$JITCTL" --config "$CONF_B" list --all --json 2>&1)"

	OUT=$(printf '%s\n' "$token" | "$JITCTL" --config "$CONF_B" import 2>"$T/stderr"); RC=$?
	expect_status "import" 0 "$RC" "$(cat "$T/stderr")"
	expect_eq "import prints the id" "$id" "$OUT"
	expect_event "import event" grant-imported "$id"
	count=$(event_count grant-imported)
	OUT=$(printf '%s\n' "$token" | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
	expect_status "import again" 0 "$RC" "$OUT"
	expect_eq "import again sends no event" "$count" "$(event_count grant-imported)"
	run_with "$CONF_B" list --user root
	expect_match "imported grant listed" "$OUT" "^$id "

	run grant root --for 1h --reason x --command ALL --host 'db*'
	OUT=$("$JITCTL" --config "$CONF" export "$OUT" | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
	expect_status "import for another host" 1 "$RC" "$OUT"
	expect_match "import for another host: message" "$OUT" 'do not include this host'
}

test_reap()
{
	local a b

	run grant root --for 1s --reason short --command ALL
	a=$OUT
	run grant root --for 1s --reason short --command ALL
	b=$OUT
	sleep 2

	OUT=$("$JITCTL" --config "$CONF" export "$a" | "$JITCTL" --config "$CONF_B" import 2>&1); RC=$?
	expect_status "import expired grant" 1 "$RC" "$OUT"
	expect_match "import expired grant: message" "$OUT" 'expired at'

	run list --all
	expect_match "expired grant listed with --all" "$OUT" "^$a .* expired "
	run reap --batch 1
	expect_status "reap" 0 "$RC" "$ERR"
	expect_match "reap count" "$OUT" '^removed [2-9][0-9]* expired grants$'
	expect_event "reap event" grant-removed "$a"
	expect_event "reap event" grant-removed "$b"
	run show "$a"
	expect_status "reaped grant is gone" 1 "$RC" "$ERR"
	run reap
	expect_match "second reap" "$OUT" '^removed 0 expired grants$'
	run reap --batch 0
	expect_status "reap --batch 0" 1 "$RC" "$ERR"
}

test_unprivileged()
{
	local before after

	before=$(find "$T/a" -printf '%p %u %m %s %T@\n' | sort)
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$JITCTL" --config "$CONF" grant root --for 1h --reason x --command ALL 2>&1)
	RC=$?
	expect_status "grant as nobody" 1 "$RC" "$OUT"
	expect_match "grant as nobody: message" "$OUT" '^jitctl grant: .*run jitctl as root$'
	OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$JITCTL" --config "$CONF" check root -- echo 2>&1)
	RC=$?
	expect_status "check as nobody" 1 "$RC" "$OUT"
	expect_match "check as nobody: message" "$OUT" 'root'
	after=$(find "$T/a" -printf '%p %u %m %s %T@\n' | sort)
	expect_eq "nobody changed no file" "$before" "$after"
}

test_usage
test_init
test_grant
test_check_and_revoke
test_tokens
test_reap
test_unprivileged

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
