/* Measures what recording use events costs the sudo path: the decision
 * (jit_check) alone, the evidence chain append alone
 * (jit_chain_append_event, which opens the store for writing, appends in
 * one write transaction, commits and closes), and both in sequence as the
 * sudo plugin runs them for an allowed command.
 *
 * usage: bench-use-event DIR [GRANTS [USERS [ROUNDS]]]
 *   makes its environment in DIR (defaults 10000 grants, 1000 users, 2000
 *   rounds). DIR decides what is measured: a commit is an fsync of the
 *   store file, so put DIR on the file system the store would live on.
 *
 * Prints "NAME n=N p50_us=X p90_us=X p99_us=X max_us=X" lines for
 * decision, append and decision_plus_append. Needs root. */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"
#include "jit/chain.h"
#include "jit/decision.h"
#include "jit/timeutil.h"

static void check_once(const jit_config *config, jit_decision *decision)
{
	jit_access access = {
		.kind = JIT_ACCESS_COMMAND,
		.user = "user0",
		.host = config->hostname,
		.command = "/usr/bin/true",
	};

	jit_check(config, &access, jit_clock_now_ms(), decision);
	if (!jit_decision_allowed(decision)) {
		fprintf(stderr, "bench-use-event: unexpected denial: %s\n",
			decision->detail);
		exit(1);
	}
}

static void append_once(const jit_config *config)
{
	jit_event ev = {
		.type = JIT_EVENT_ACCESS_ALLOWED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = "00112233445566778899aabbccddeeff",
		.user = "user0",
		.actor = "user0",
		.command = "/usr/bin/true",
		.runas = "root",
		.tty = "/dev/pts/0",
	};
	jit_error error;

	if (jit_chain_append_event(config->store, &ev, &error) != JIT_OK)
		bench_die("appending a use event", &error);
}

int main(int argc, char **argv)
{
	long grants = argc > 2 ? atol(argv[2]) : 10000;
	long users = argc > 3 ? atol(argv[3]) : 1000;
	long rounds = argc > 4 ? atol(argv[4]) : 2000;
	int64_t *decision, *append, *both;
	jit_issuer_key *key = NULL;
	jit_config *config = NULL;

	if (argc < 2 || grants < 1 || users < 1 || rounds < 1) {
		fprintf(stderr, "usage: bench-use-event DIR [GRANTS [USERS [ROUNDS]]]\n");
		return 2;
	}
	bench_env_create(argv[1], &config, &key);
	bench_fill(config, key, grants, users, 0, jit_clock_now_ms() / 1000);

	decision = calloc((size_t)rounds, sizeof(*decision));
	append = calloc((size_t)rounds, sizeof(*append));
	both = calloc((size_t)rounds, sizeof(*both));
	if (decision == NULL || append == NULL || both == NULL)
		bench_die("allocating samples", NULL);

	for (long i = 0; i < rounds; i++) {
		jit_decision d;
		int64_t t0, t1, t2;

		t0 = bench_monotonic_ns();
		check_once(config, &d);
		t1 = bench_monotonic_ns();
		append_once(config);
		t2 = bench_monotonic_ns();
		decision[i] = t1 - t0;
		append[i] = t2 - t1;
		both[i] = t2 - t0;
	}
	bench_print_percentiles("decision", decision, (size_t)rounds);
	bench_print_percentiles("append", append, (size_t)rounds);
	bench_print_percentiles("decision_plus_append", both, (size_t)rounds);

	free(decision);
	free(append);
	free(both);
	jit_issuer_key_free(key);
	jit_config_free(config);
	return 0;
}
