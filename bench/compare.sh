#!/usr/bin/env bash
# Times the real "sudo -n true" through jit_policy against stock sudoers
# (a NOPASSWD rule for the same user and command), in one run, alternating
# one call of each, inside the end-to-end namespaces so the host's sudo.conf
# and sudoers are never touched.
#
# Usage (as root, after a build): bench/sudo_compare.sh [ROUNDS]   (default 300)
# Prints the median and p90 wall time of each and the ratio of medians.
set -u -o pipefail

rounds=${1:-300}

if [ -z "${E2E_T:-}" ]; then
	src=$(cd "$(dirname "$0")/.." && pwd)
	E2E_BUILD=$src/${BUILD_DIR:-build}
	E2E_SRC=$src
	BENCH_ROUNDS=$rounds
	export E2E_BUILD E2E_SRC BENCH_ROUNDS
	. "$src/tests/e2e/lib.sh"
	e2e_spawn "$src/bench/sudo_compare.sh"
	exit $?
fi

. "$E2E_SRC/tests/e2e/lib.sh"
e2e_setup
e2e_init

jitctl grant alice --for 2h --reason "benchmark" --command /usr/bin/true >/dev/null ||
	e2e_die "jitctl grant failed"

# Debian builds sudoers with --with-fqdn, so it looks its host name up. The
# namespace's name gets an address, so the lookup costs what it does on a host.
cp /etc/hosts "$T/hosts" && echo "127.0.1.1 $E2E_NS_HOSTNAME" >>"$T/hosts"
mount --bind "$T/hosts" /etc/hosts || e2e_die "bind over /etc/hosts failed"

install -o root -g root -m 0440 /dev/null "$T/sudoers"
echo "alice ALL=(root) NOPASSWD: /usr/bin/true" >"$T/sudoers"
install -o root -g root -m 0644 /dev/null "$T/sudo.conf.sudoers"
echo "Plugin sudoers_policy sudoers.so sudoers_file=$T/sudoers" >"$T/sudo.conf.sudoers"

uid=$(id -u alice)
gid=$(id -g alice)

# setpriv switches to alice without a PAM session, so only sudo is timed.
time_one()
{
	local start end

	start=$EPOCHREALTIME
	setpriv --reuid "$uid" --regid "$gid" --init-groups sudo -n true ||
		e2e_die "sudo -n true failed with $1"
	end=$EPOCHREALTIME
	echo $(( (${end/./} - ${start/./}) ))
}

use_conf()
{
	umount /etc/sudo.conf 2>/dev/null
	mount --bind "$1" /etc/sudo.conf || e2e_die "bind of $1 failed"
}

: >"$T/jit.us"
: >"$T/sudoers.us"
for _ in $(seq 10); do
	use_conf "$T/sudo.conf"; time_one jit >/dev/null
	use_conf "$T/sudo.conf.sudoers"; time_one sudoers >/dev/null
done
for _ in $(seq "$BENCH_ROUNDS"); do
	use_conf "$T/sudo.conf"
	time_one jit >>"$T/jit.us"
	use_conf "$T/sudo.conf.sudoers"
	time_one sudoers >>"$T/sudoers.us"
done

percentile()
{
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p); if (i < 1) i = 1; print v[i] }'
}

jit_p50=$(percentile "$T/jit.us" 0.5)
jit_p90=$(percentile "$T/jit.us" 0.9)
sudoers_p50=$(percentile "$T/sudoers.us" 0.5)
sudoers_p90=$(percentile "$T/sudoers.us" 0.9)

echo "sudo -n true, $BENCH_ROUNDS calls each, alternating, wall time per call:"
printf '  jit_policy       p50 %6.2f ms  p90 %6.2f ms\n' \
	"$(echo "$jit_p50 / 1000" | bc -l)" "$(echo "$jit_p90 / 1000" | bc -l)"
printf '  stock sudoers    p50 %6.2f ms  p90 %6.2f ms\n' \
	"$(echo "$sudoers_p50 / 1000" | bc -l)" "$(echo "$sudoers_p90 / 1000" | bc -l)"
printf '  ratio of medians (jit / sudoers): %.2f\n' "$(echo "$jit_p50 / $sudoers_p50" | bc -l)"

e2e_teardown
