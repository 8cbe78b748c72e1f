#!/usr/bin/env bash
# Concurrency soak: for SECONDS, runs in parallel, inside the end-to-end
# namespaces, loops of PAM account checks, sudo calls, jitctl grant and
# revoke, jitctl reap, and PAM checks killed with SIGKILL mid-run. Every
# decision is logged with its start and end time and compared with what the
# grant history allows:
#
#   alice  has a sudo grant for /usr/bin/id for the whole run: always allowed
#   carol  has a PAM grant for jit-test for the whole run: always allowed
#   bob    never has a grant: sudo always denied
#   grace  gets a grant for /usr/bin/id that is revoked, over and over. A
#          call that starts after a revoke returned and ends before the next
#          grant started is denied. A call that starts after a grant
#          returned and ends before its revoke started is allowed. Calls
#          that overlap a change are not judged, except that a command
#          ended by SIGHUP must overlap a revoke.
#   erin   gets 1-second grants that expire, so that reap has work
#
# Usage (as root): tests/soak/soak.sh SECONDS
# BUILD_DIR (default build) names the build folder. Prints "ok - soak-NAME"
# or "not ok - soak-NAME" per assertion and then "soak: N passed, N
# failed"; exits 0 only when every assertion passed.
set -u -o pipefail

if [ -z "${E2E_T:-}" ]; then
	src=$(cd "$(dirname "$0")/../.." && pwd)
	seconds=${1:-}
	if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
		echo "usage: soak.sh SECONDS" >&2
		exit 2
	fi
	E2E_BUILD=$src/${BUILD_DIR:-build}
	E2E_SRC=$src
	export E2E_BUILD E2E_SRC
	. "$src/tests/e2e/lib.sh"
	e2e_spawn "$src/tests/soak/soak.sh" "$seconds"
	exit $?
fi

# From here on this script is PID 1 of the namespace.
. "$E2E_SRC/tests/e2e/lib.sh"

SECONDS_TO_RUN=$1
PASSED=0
FAILED=0

report()
{
	local name=$1 ok=$2 why=${3:-}

	if [ "$ok" = yes ]; then
		echo "ok - soak-$name"
		PASSED=$((PASSED + 1))
	else
		echo "not ok - soak-$name"
		[ -n "$why" ] && printf '%s\n' "$why" | head -n 20 | sed 's/^/#   /'
		FAILED=$((FAILED + 1))
	fi
}

# Each loop writes one line per decision to its log:
#   START END USER RESULT
# with RESULT allow, deny or error:DETAIL. Times are $EPOCHREALTIME.

sudo_loop()
{
	local user=$1 log=$2 start out rc result

	while [ "$EPOCHSECONDS" -lt "$DEADLINE" ]; do
		start=$EPOCHREALTIME
		out=$(timeout 30 runuser -u "$user" -- sudo -n /usr/bin/id -u 2>&1)
		rc=$?
		if [ "$rc" -eq 0 ] && [ "$out" = 0 ]; then
			result=allow
		elif [ "$rc" -eq 1 ] && [[ "$out" == *"jit: "* ]]; then
			result=deny
		elif [ "$rc" -eq 129 ]; then
			# jitctl revoke ends the commands running under the
			# grant with SIGHUP.
			result=ended
		else
			result="error:rc=$rc:$(printf '%s' "$out" | head -c 200 | tr '\n ' '|_')"
		fi
		echo "$start $EPOCHREALTIME $user $result" >>"$log"
		printf '%s\n' "$out" >>"$log.out"
	done
}

pam_loop()
{
	local user=$1 log=$2 start out rc result

	while [ "$EPOCHSECONDS" -lt "$DEADLINE" ]; do
		start=$EPOCHREALTIME
		out=$(timeout 30 "$PAM_CALL" jit-test "$user" "$T/lib/pam_jit.so" \
		      "config=$CONF" 2>>"$log.out")
		rc=$?
		if [ "$rc" -eq 0 ] && [ "$out" = PAM_SUCCESS ]; then
			result=allow
		elif [ "$rc" -eq 0 ] && [ -n "$out" ] && [ "$out" != PAM_IGNORE ]; then
			result=deny
		else
			result="error:rc=$rc:$out"
		fi
		echo "$start $EPOCHREALTIME $user $result" >>"$log"
	done
}

# Starts PAM checks that repeat for long and kills them with SIGKILL after a
# few milliseconds, often inside a read transaction.
killed_pam_loop()
{
	local log=$1 pid

	while [ "$EPOCHSECONDS" -lt "$DEADLINE" ]; do
		"$PAM_CALL" --repeat 100000 jit-test carol "$T/lib/pam_jit.so" \
			"config=$CONF" >/dev/null 2>>"$log.out" &
		pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "killed $pid" >>"$log"
	done
}

# Logs "grant START END ID" and "revoke START END ID" lines, or
# "error ..." when jitctl failed.
churn_loop()
{
	local log=$1 start id out

	while [ "$EPOCHSECONDS" -lt "$DEADLINE" ]; do
		start=$EPOCHREALTIME
		id=$("$JITCTL" --config "$CONF" grant grace --for 1h \
		     --command /usr/bin/id --reason "soak churn" 2>>"$log.out")
		if ! [[ "$id" =~ ^[0-9a-f]{32}$ ]]; then
			echo "error grant $start $EPOCHREALTIME $id" >>"$log"
			continue
		fi
		echo "grant $start $EPOCHREALTIME $id" >>"$log"
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"

		start=$EPOCHREALTIME
		if ! out=$("$JITCTL" --config "$CONF" revoke "$id" \
			   --reason "soak churn" 2>&1); then
			echo "error revoke $start $EPOCHREALTIME $id $(printf '%s' "$out" | tr '\n' '|')" >>"$log"
			printf '%s\n' "$out" >>"$log.out"
			continue
		fi
		printf '%s\n' "$out" >>"$log.out"
		echo "revoke $start $EPOCHREALTIME $id" >>"$log"
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
	done
}

# Issues short grants that expire and reaps them.
reap_loop()
{
	local log=$1 status

	while [ "$EPOCHSECONDS" -lt "$DEADLINE" ]; do
		"$JITCTL" --config "$CONF" grant erin --for 1s \
			--command /usr/bin/id --reason "soak expiry" >/dev/null 2>>"$log.out"
		status=$?
		[ "$status" -eq 0 ] || echo "error grant $status" >>"$log"
		sleep 0.3
		"$JITCTL" --config "$CONF" reap >>"$log.out" 2>&1
		status=$?
		[ "$status" -eq 0 ] || echo "error reap $status" >>"$log"
		echo "reap $status" >>"$log"
	done
}

# Prints every judged decision of the logs that contradicts the expected
# outcome. The churn log gives grace's windows. She surely has a grant
# between a grant's end and its revoke's start, and surely has none between
# a revoke's end and the next grant's start, or before the first grant.
wrong_decisions()
{
	local churn=$1

	shift
	awk '
		FNR == NR {
			if ($1 == "grant") { gs[++n] = $2; ge[n] = $3 }
			if ($1 == "revoke") { rs[n] = $2; re[n] = $3 }
			next
		}
		$4 ~ /^error/ { print "error: " $0; next }
		$3 == "alice" || $3 == "carol" {
			if ($4 != "allow") print "expected allow: " $0
			next
		}
		$3 == "bob" {
			if ($4 != "deny") print "expected deny: " $0
			next
		}
		$3 == "grace" && $4 == "ended" {
			overlap = 0
			for (i = 1; i <= n; i++)
				if ((i in rs) && $1 < re[i] && $2 > rs[i]) overlap = 1
			if (!overlap) print "ended outside any revoke: " $0
			next
		}
		$4 == "ended" { print "ended without a revoke: " $0; next }
		$3 == "grace" {
			expect = ""
			if (n == 0 || $2 < gs[1]) expect = "deny"
			for (i = 1; i <= n && expect == ""; i++) {
				if ((i in rs) && $1 > ge[i] && $2 < rs[i]) expect = "allow"
				else if (!(i in rs) && $1 > ge[i]) expect = "allow"
				else if ((i in re) && $1 > re[i] && (i == n || $2 < gs[i + 1])) expect = "deny"
			}
			if (expect != "") { judged++; if ($4 != expect) print "expected " expect ": " $0 }
		}
		END { print "judged " judged + 0 > "/dev/stderr" }
	' "$churn" "$@"
}

# Prints processes of the run that are still alive.
leftover_processes()
{
	ps -e -o pid=,comm= | awk '$2 ~ /^(pam-call|sudo|runuser|jitctl|timeout|sleep|id)$/'
}

soak_main()
{
	local dir=$T/soak alice_id carol_id pids=() logs wrong judged stale \
	      panics einval leftover count

	mkdir -p "$dir"
	alice_id=$("$JITCTL" --config "$CONF" grant alice --for 2h \
		   --command /usr/bin/id --reason "soak stable" 2>&1)
	carol_id=$("$JITCTL" --config "$CONF" grant carol --for 2h \
		   --service jit-test --reason "soak stable" 2>&1)
	if ! [[ "$alice_id" =~ ^[0-9a-f]{32}$ && "$carol_id" =~ ^[0-9a-f]{32}$ ]]; then
		report setup no "jitctl grant failed: $alice_id $carol_id"
		return
	fi

	DEADLINE=$((EPOCHSECONDS + SECONDS_TO_RUN))
	sudo_loop alice "$dir/sudo-alice.log" & pids+=($!)
	sudo_loop bob "$dir/sudo-bob.log" & pids+=($!)
	sudo_loop grace "$dir/sudo-grace.log" & pids+=($!)
	pam_loop carol "$dir/pam-carol-1.log" & pids+=($!)
	pam_loop carol "$dir/pam-carol-2.log" & pids+=($!)
	killed_pam_loop "$dir/killed.log" & pids+=($!)
	churn_loop "$dir/churn.log" & pids+=($!)
	reap_loop "$dir/reap.log" & pids+=($!)
	wait "${pids[@]}"
	touch "$dir/churn.log" "$dir/reap.log" "$dir/killed.log"

	logs=("$dir"/sudo-*.log "$dir"/pam-*.log)
	count=$(cat "${logs[@]}" 2>/dev/null | wc -l)
	judged=$(wrong_decisions "$dir/churn.log" "${logs[@]}" 2>&1 >/dev/null)
	wrong=$(wrong_decisions "$dir/churn.log" "${logs[@]}" 2>/dev/null)
	echo "# $count decisions ($(cat "${logs[@]}" | grep -c ' ended$') ended by a revoke)," \
	     "grace's ${judged#judged } judged;" \
	     "$(grep -c '^grant' "$dir/churn.log") grants and" \
	     "$(grep -c '^revoke' "$dir/churn.log") revokes;" \
	     "$(grep -c '^reap' "$dir/reap.log") reaps;" \
	     "$(grep -c '^killed' "$dir/killed.log") PAM checks killed"

	report every-loop-decided \
		"$( for f in "${logs[@]}"; do [ -s "$f" ] || echo "$f"; done | grep -q . && echo no || echo yes)" \
		"a loop made no decision"
	report no-wrong-decision "$([ -z "$wrong" ] && echo yes || echo no)" "$wrong"
	report grace-decisions-judged \
		"$([ "${judged#judged }" -gt 0 ] 2>/dev/null && echo yes || echo no)" \
		"no decision of grace fell inside a settled window"
	report grant-and-revoke-succeeded \
		"$(grep -q '^error' "$dir/churn.log" || echo yes)" \
		"$(grep '^error' "$dir/churn.log")"
	report reap-succeeded "$(grep -q '^error' "$dir/reap.log" || echo yes)" \
		"$(grep '^error' "$dir/reap.log")"

	panics=$(cat "$dir"/*.out 2>/dev/null | grep -E 'MDB_[A-Z_]+|mdb_[a-z_]+:' | sort | uniq -c)
	report no-mdb-error "$([ -z "$panics" ] && echo yes || echo no)" "$panics"
	einval=$(cat "$dir"/*.out 2>/dev/null | grep -E 'EINVAL|Invalid argument' | sort | uniq -c)
	report no-einval "$([ -z "$einval" ] && echo yes || echo no)" "$einval"

	stale=$(mdb_stat -rr "$STORE" 2>&1)
	report no-stale-readers \
		"$(printf '%s' "$stale" | grep -q '(no active readers)' &&
		   printf '%s' "$stale" | grep -q ' 0 stale readers cleared' && echo yes || echo no)" \
		"$stale"

	sleep 0.2
	leftover=$(leftover_processes)
	report no-leftover-process "$([ -z "$leftover" ] && echo yes || echo no)" "$leftover"

	run_checks_after "$alice_id"
}

# Checks that after the run the store still allows alice by her grant.
run_checks_after()
{
	local out

	out=$("$JITCTL" --config "$CONF" check alice -- /usr/bin/id 2>&1)
	report store-decides-after-run "$(printf '%s' "$out" | grep -q "$1" && echo yes || echo no)" "$out"
}

trap e2e_teardown EXIT
e2e_setup
e2e_init
soak_main
echo "soak: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
