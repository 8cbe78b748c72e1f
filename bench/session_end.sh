#!/usr/bin/env bash
# Measures how long sessions outlive their grant: the time from a grant's
# end (its not-after second) to the end of a session that was open under it.
#
#   ssh, expiry   a real sshd on loopback, "ssh carol@127.0.0.1 sleep 60"
#                 under a 3 s grant, with jitctl watch running; the session
#                 ends when the ssh client exits
#   sudo, expiry  "sudo -n -s" running "sleep 60" under a 3 s grant, with
#                 jitctl watch running; the session ends when sudo exits
#   ssh, revoke   the same ssh session under a 5 min grant, timed from the
#                 start of "jitctl revoke" instead
#
# Usage (as root, after a build): bench/session_end.sh [RUNS]   (default 20)
# Prints each run in milliseconds, then the median and the worst of each
# series, and how many runs left a process of the session behind. A
# negative figure means the session ended before the grant did. Runs inside
# the end-to-end namespaces (tests/e2e/lib.sh), so the host's sshd, PAM
# stack, sudo.conf and journal are never touched.
set -u -o pipefail

runs=${1:-20}

if [ -z "${E2E_T:-}" ]; then
	case $runs in
	''|*[!0-9]*|0) echo "usage: bench/session_end.sh [RUNS]" >&2; exit 2 ;;
	esac
	src=$(cd "$(dirname "$0")/.." && pwd)
	E2E_BUILD=$src/${BUILD_DIR:-build}
	E2E_SRC=$src
	BENCH_RUNS=$runs
	export E2E_BUILD E2E_SRC BENCH_RUNS
	. "$src/tests/e2e/lib.sh"
	e2e_spawn "$src/bench/session_end.sh"
	exit $?
fi

# From here on this script is PID 1 of the namespace.
. "$E2E_SRC/tests/e2e/lib.sh"
trap 'e2e_stop_watch; e2e_stop_sshd; e2e_teardown' EXIT
e2e_setup
e2e_init
e2e_start_sshd
e2e_start_watch

runs=$BENCH_RUNS

now_ms()
{
	date +%s%3N
}

grant_end_ms()
{
	echo $(( $(date -d "$(jitctl show "$1" --json | jq -r .not_after)" +%s) * 1000 ))
}

wait_for_file()
{
	local i

	for i in $(seq 400); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# Runs CMD... in the background with standard input from INPUT; when it
# exits, the time in ms is written to $T/end.
start_timed()
{
	local input=$1

	shift
	rm -f "$T/end"
	(
		"$@" <"$input" >"$T/out" 2>&1
		now_ms >"$T/end.tmp"
		mv "$T/end.tmp" "$T/end"
	) &
}

# Waits up to 10 s for the ssh session's record, so the session is open
# before its grant ends or is revoked.
wait_session_recorded()
{
	local i

	for i in $(seq 200); do
		[ "$(e2e_session_records)" -ge 1 ] && return 0
		sleep 0.05
	done
	e2e_die "the ssh session was not recorded within 10 s (see $T/sshd.log)"
}

# Prints how many processes of USER are left 200 ms after the end; for
# root, how many "sleep 60" started by a sudo shell.
leftovers()
{
	sleep 0.2
	if [ "$1" = root ]; then
		pgrep -u root -x -f 'sleep 60' | wc -l
	else
		pgrep -u "$1" | wc -l
	fi
}

# Stops the "sleep 60" a sudo shell left behind: they were reparented to
# this script, PID 1 of the namespace.
stop_leftovers()
{
	local pid

	for pid in $(pgrep -P $$ -u root -x sleep); do
		kill "$pid" 2>/dev/null
	done
}

# Prints "median worst" of the numbers on stdin.
summarize()
{
	sort -n | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%d %d\n", m, v[NR] }'
}

ssh_expiry_run()
{
	local id end

	id=$(jitctl grant carol --for 3s --service sshd --reason bench) || e2e_die "jitctl grant failed"
	end=$(grant_end_ms "$id")
	E2E_SSH_TIMEOUT=30 start_timed /dev/null e2e_ssh carol 'sleep 60'
	wait_session_recorded
	wait_for_file "$T/end" || e2e_die "the ssh session did not end within 20 s"
	echo $(( $(cat "$T/end") - end ))
}

sudo_expiry_run()
{
	local id end

	id=$(jitctl grant alice --for 3s --command ALL --reason bench) || e2e_die "jitctl grant failed"
	end=$(grant_end_ms "$id")
	start_timed "$T/shell-input" timeout 30 runuser -u alice -- sudo -n -s
	wait_for_file "$T/end" || e2e_die "sudo -s did not end within 20 s"
	echo $(( $(cat "$T/end") - end ))
}

ssh_revoke_run()
{
	local id start

	id=$(jitctl grant carol --for 5m --service sshd --reason bench) || e2e_die "jitctl grant failed"
	E2E_SSH_TIMEOUT=30 start_timed /dev/null e2e_ssh carol 'sleep 60'
	wait_session_recorded
	start=$(now_ms)
	jitctl revoke "$id" --reason bench >/dev/null || e2e_die "jitctl revoke failed"
	wait_for_file "$T/end" || e2e_die "the revoked ssh session did not end within 20 s"
	echo $(( $(cat "$T/end") - start ))
}

printf 'sleep 60\n' >"$T/shell-input"
chmod 0644 "$T/shell-input"

declare -A left=([ssh-expiry]=0 [sudo-expiry]=0 [ssh-revoke]=0)
for series in ssh-expiry sudo-expiry ssh-revoke; do
	: >"$T/$series"
	for i in $(seq "$runs"); do
		case $series in
		ssh-expiry)
			ms=$(ssh_expiry_run) || exit 1
			user=carol ;;
		sudo-expiry)
			ms=$(sudo_expiry_run) || exit 1
			user=root ;;
		ssh-revoke)
			ms=$(ssh_revoke_run) || exit 1
			user=carol ;;
		esac
		echo "$ms" >>"$T/$series"
		n=$(leftovers "$user")
		[ "$n" -gt 0 ] && left[$series]=$(( left[$series] + 1 ))
		printf '%s run %d: %d ms%s\n' "$series" "$i" "$ms" \
			"$([ "$n" -gt 0 ] && echo " ($n processes left)")"
		# Processes left by a sudo shell are a finding, not something to
		# carry into the next run.
		[ "$user" = root ] && stop_leftovers
	done
done

echo
printf '%-12s %5s %10s %10s %s\n' series runs median_ms worst_ms runs_with_processes_left
for series in ssh-expiry sudo-expiry ssh-revoke; do
	read -r median worst < <(summarize <"$T/$series")
	printf '%-12s %5d %10d %10d %d\n' "$series" "$runs" "$median" "$worst" "${left[$series]}"
done
