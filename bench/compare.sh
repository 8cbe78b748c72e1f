#!/usr/bin/env bash
# Measures jit in the paths it sits in against what it replaces, in one
# run, inside the end-to-end namespaces (tests/e2e/lib.sh), so the host's
# sudo.conf, sudoers, PAM stacks and journal are never touched:
#
#   sudo     the real "sudo -n true" through jit_policy against stock
#            sudoers (a NOPASSWD rule for the same user and command),
#            alternating one call of each: the ratio of the medians
#   PAM      one account check through a real stack, one process per
#            check as each sshd connection has, with pam_jit against
#            pam_permit, alternating: the difference of the medians. The
#            driver looks the user up first, as sshd does before PAM.
#   ssh      a real login over loopback ("ssh carol@127.0.0.1"), with
#            pam_jit in sshd's account and session stacks against
#            pam_permit in their place, alternating (at most 30 logins of
#            each): the difference of the medians of the login's wall time
#   memory   the peak resident memory of those sudo and PAM processes,
#            and of the privileged sshd process of each login (the one
#            that runs PAM), jit against stock: the difference of the
#            medians
#
# Usage (as root, after a build with tests):
#   bench/compare.sh [ROUNDS]   (default 300; BUILD_DIR=DIR picks the build)
# Prints the figures. When BENCH_ROWS names a file, they are also appended
# to it as rows of bench/run's table.
set -u -o pipefail

rounds=${1:-300}

if [ -z "${E2E_T:-}" ]; then
	case $rounds in
	''|*[!0-9]*|0) echo "usage: bench/compare.sh [ROUNDS]" >&2; exit 2 ;;
	esac
	src=$(cd "$(dirname "$0")/.." && pwd)
	E2E_BUILD=$(cd "$src" && realpath "${BUILD_DIR:-build}")
	E2E_SRC=$src
	BENCH_ROUNDS=$rounds
	export E2E_BUILD E2E_SRC BENCH_ROUNDS
	if [ ! -x "$E2E_BUILD/tests/tools/pam-call" ]; then
		echo "bench/compare.sh: $E2E_BUILD/tests/tools/pam-call is missing: build with -Dtests=true" >&2
		exit 1
	fi
	if [ ! -x /usr/bin/time ]; then
		echo "bench/compare.sh: /usr/bin/time is missing: apt-get install time (or run scripts/deps)" >&2
		exit 1
	fi
	. "$src/tests/e2e/lib.sh"
	e2e_spawn "$src/bench/compare.sh"
	exit $?
fi

# From here on this script is PID 1 of the namespace.
. "$E2E_SRC/tests/e2e/lib.sh"
e2e_setup
e2e_init
trap 'e2e_stop_sshd; e2e_teardown' EXIT
e2e_start_sshd

"$JITCTL" --config "$CONF" grant alice --for 2h --reason "benchmark" \
	--command /usr/bin/true >/dev/null || e2e_die "jitctl grant for sudo failed"
"$JITCTL" --config "$CONF" grant carol --for 2h --reason "benchmark" \
	--service bench-jit >/dev/null || e2e_die "jitctl grant for PAM failed"
"$JITCTL" --config "$CONF" grant carol --for 2h --reason "benchmark" \
	--service sshd >/dev/null || e2e_die "jitctl grant for sshd failed"

# Debian builds sudoers with --with-fqdn, so it looks its host name up. The
# namespace's name gets an address, so the lookup costs what it does on a host.
cp /etc/hosts "$T/hosts" && echo "127.0.1.1 $E2E_NS_HOSTNAME" >>"$T/hosts"
mount --bind "$T/hosts" /etc/hosts || e2e_die "bind over /etc/hosts failed"

install -o root -g root -m 0440 /dev/null "$T/sudoers"
echo "alice ALL=(root) NOPASSWD: /usr/bin/true" >"$T/sudoers"
install -o root -g root -m 0644 /dev/null "$T/sudo.conf.sudoers"
echo "Plugin sudoers_policy sudoers.so sudoers_file=$T/sudoers" >"$T/sudo.conf.sudoers"

# Two stacks that differ only in their account module, and sshd's stack
# with pam_jit (from e2e_start_sshd) and with pam_permit in its place.
echo "account required $T/lib/pam_jit.so config=$CONF" >"$T/pam.d/bench-jit"
echo "account required pam_permit.so" >"$T/pam.d/bench-permit"
cp "$T/pam.d/sshd" "$T/sshd.jit"
sed "s|$T/lib/pam_jit.so config=$CONF|pam_permit.so|" "$T/sshd.jit" >"$T/sshd.permit"

alice_uid=$(id -u alice)
alice_gid=$(id -g alice)

use_conf()
{
	umount /etc/sudo.conf 2>/dev/null
	mount --bind "$1" /etc/sudo.conf || e2e_die "bind of $1 failed"
}

# time_call LABEL OUT COMMAND...: appends the wall time of COMMAND in
# microseconds to OUT.us and its peak resident memory in KiB to OUT.kib.
time_call()
{
	local label=$1 out=$2 start end
	shift 2

	start=$EPOCHREALTIME
	/usr/bin/time -f %M -o "$T/rss" "$@" >"$T/call.out" 2>&1 ||
		e2e_die "$label failed: $(cat "$T/call.out")"
	end=$EPOCHREALTIME
	echo $(( ${end/./} - ${start/./} )) >>"$out.us"
	cat "$T/rss" >>"$out.kib"
}

# setpriv switches to alice without a PAM session, so only sudo is timed.
sudo_call()
{
	use_conf "$2"
	time_call "sudo -n true with $1" "$T/sudo-$1" \
		setpriv --reuid "$alice_uid" --regid "$alice_gid" --init-groups \
		sudo -n true
}

pam_call()
{
	time_call "PAM account with $1" "$T/pam-$1" \
		"$PAM_CALL" --stack --lookup-user "bench-$1" carol none
	grep -qx PAM_SUCCESS "$T/call.out" ||
		e2e_die "PAM account with $1 did not succeed: $(cat "$T/call.out")"
}

# Logs carol in over ssh with sshd's stack from FILE and appends the peak
# memory in KiB of the privileged sshd process of that login (the parent
# of the session's sshd process, the shell's parent) to OUT.kib.
sshd_login()
{
	local out start end

	cp "$2" "$T/pam.d/sshd"
	start=$EPOCHREALTIME
	# shellcheck disable=SC2016 # expanded by the remote shell
	out=$(e2e_ssh carol 'monitor=$(awk "{ print \$4 }" /proc/$PPID/stat)
		sed -n "s/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p" /proc/$monitor/status' 2>&1)
	end=$EPOCHREALTIME
	[[ $out =~ ^[0-9]+$ ]] || e2e_die "ssh login with sshd's $1 stack failed: $out"
	echo "$out" >>"$T/sshd-$1.kib"
	echo $(( ${end/./} - ${start/./} )) >>"$T/sshd-$1.us"
}

median()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Warm the page cache and the journal first, then measure.
for _ in $(seq 10); do
	sudo_call jit "$T/sudo.conf"
	sudo_call sudoers "$T/sudo.conf.sudoers"
	pam_call jit
	pam_call permit
done
rm -f "$T"/sudo-*.us "$T"/sudo-*.kib "$T"/pam-*.us "$T"/pam-*.kib
for _ in $(seq "$BENCH_ROUNDS"); do
	sudo_call jit "$T/sudo.conf"
	sudo_call sudoers "$T/sudo.conf.sudoers"
done
for _ in $(seq "$BENCH_ROUNDS"); do
	pam_call jit
	pam_call permit
done
for _ in $(seq $(( BENCH_ROUNDS < 30 ? BENCH_ROUNDS : 30 ))); do
	sshd_login jit "$T/sshd.jit"
	sshd_login permit "$T/sshd.permit"
done

sudo_jit=$(median "$T/sudo-jit.us")
sudo_stock=$(median "$T/sudo-sudoers.us")
pam_jit=$(median "$T/pam-jit.us")
pam_stock=$(median "$T/pam-permit.us")
sudo_ratio=$(awk -v a="$sudo_jit" -v b="$sudo_stock" 'BEGIN { printf "%.2f", a / b }')
pam_added=$(awk -v a="$pam_jit" -v b="$pam_stock" 'BEGIN { printf "%.2f", (a - b) / 1000 }')
sudo_memory=$(awk -v a="$(median "$T/sudo-jit.kib")" -v b="$(median "$T/sudo-sudoers.kib")" \
	'BEGIN { printf "%.2f", (a - b) / 1024 }')
pam_memory=$(awk -v a="$(median "$T/pam-jit.kib")" -v b="$(median "$T/pam-permit.kib")" \
	'BEGIN { printf "%.2f", (a - b) / 1024 }')
ssh_added=$(awk -v a="$(median "$T/sshd-jit.us")" -v b="$(median "$T/sshd-permit.us")" \
	'BEGIN { printf "%.2f", (a - b) / 1000 }')
sshd_memory=$(awk -v a="$(median "$T/sshd-jit.kib")" -v b="$(median "$T/sshd-permit.kib")" \
	'BEGIN { printf "%.2f", (a - b) / 1024 }')

ms()
{
	awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

echo "$BENCH_ROUNDS calls of each, alternating; medians:"
echo "  sudo -n true: jit_policy $(ms "$sudo_jit") ms, stock sudoers $(ms "$sudo_stock") ms, ratio $sudo_ratio"
echo "  PAM account: pam_jit $(ms "$pam_jit") ms, pam_permit $(ms "$pam_stock") ms, added $pam_added ms"
echo "  ssh login over loopback: $ssh_added ms added by pam_jit (account and session)"
echo "  peak memory added: sudo $sudo_memory MiB, PAM driver $pam_memory MiB, sshd login $sshd_memory MiB"

if [ -n "${BENCH_ROWS:-}" ]; then
	. "$E2E_SRC/bench/report.sh"
	add_row "sudo -n true, jit_policy / stock sudoers: ratio of medians" \
		"$sudo_ratio" x "<= 1.0" 1.0
	add_row "sudo -n true with jit_policy: p50" "$(ms "$sudo_jit")" ms - -
	add_row "sudo -n true with stock sudoers: p50" "$(ms "$sudo_stock")" ms - -
	add_row "PAM account, pam_jit against pam_permit: time added" \
		"$pam_added" ms "<= 0.5 ms" 0.5
	add_row "ssh login over loopback, time added by pam_jit (account and session)" \
		"$ssh_added" ms - -
	add_row "memory added to a sudo process (peak RSS)" \
		"$sudo_memory" MiB "<= 2 MiB" 2
	add_row "memory added to an sshd login process (peak RSS)" \
		"$sshd_memory" MiB "<= 2 MiB" 2
	add_row "memory added to the PAM driver (peak RSS, no libsystemd)" \
		"$pam_memory" MiB - -
fi
