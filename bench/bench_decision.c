/* Measures the decision: jit_check of one user's command, which opens and
 * closes the store, loads the trusted keys and verifies that user's grants
 * as sudo would.
 *
 * usage:
 *   bench-decision [GRANTS [USERS [ROUNDS]]]
 *       makes its own environment in /tmp (defaults 10000 1000 2000), then
 *       measures warm checks in this process
 *   bench-decision --config PATH --user NAME --rounds N
 *       warm: loads PATH once, then N checks in this process
 *   bench-decision --config PATH --user NAME --spawn N
 *       fresh process per call: N times, starts this program with --once
 *       and measures from fork to exit
 *   bench-decision --config PATH --user NAME --once
 *       loads PATH and checks once, as the sudo plugin does per call;
 *       exits 0 when allowed
 *   bench-decision --config PATH --floor N
 *       the floor under a check: N Ed25519 verifies of one grant, and N
 *       store opens and closes
 *
 * Results are lines of "NAME n=N p50_us=X p90_us=X p99_us=X max_us=X".
 * Needs root: the store and key files must be root-owned. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"
#include "jit/decision.h"
#include "jit/store.h"
#include "jit/timeutil.h"

typedef struct options {
	const char *config_path;
	const char *user;
	long rounds;
	long spawn;
	long floor;
	int once;
} options;

static void check_once(const jit_config *config, const char *user,
		       jit_decision *decision)
{
	jit_access access = {
		.kind = JIT_ACCESS_COMMAND,
		.user = user,
		.host = config->hostname,
		.command = "/usr/bin/true",
	};

	jit_check(config, &access, jit_clock_now_ms(), decision);
}

static void measure_warm(const jit_config *config, const char *user,
			 long rounds)
{
	int64_t *samples = calloc((size_t)rounds, sizeof(*samples));

	if (samples == NULL)
		bench_die("allocating samples", NULL);
	for (long i = 0; i < rounds; i++) {
		jit_decision decision;
		int64_t start = bench_monotonic_ns();

		check_once(config, user, &decision);
		samples[i] = bench_monotonic_ns() - start;
		if (!jit_decision_allowed(&decision)) {
			fprintf(stderr, "bench-decision: unexpected denial: %s\n",
				decision.detail);
			exit(1);
		}
	}
	bench_print_percentiles("decision_warm", samples, (size_t)rounds);
	free(samples);
}

static int run_once(const char *config_path, const char *user)
{
	jit_config *config = NULL;
	jit_decision decision;
	jit_error error;

	if (jit_config_load(config_path, &config, &error) != JIT_OK)
		bench_die("loading the configuration", &error);
	check_once(config, user, &decision);
	jit_config_free(config);
	return jit_decision_allowed(&decision) ? 0 : 1;
}

static void measure_spawn(const char *self, const char *config_path,
			  const char *user, long count)
{
	int64_t *samples = calloc((size_t)count, sizeof(*samples));

	if (samples == NULL)
		bench_die("allocating samples", NULL);
	for (long i = 0; i < count; i++) {
		int64_t start = bench_monotonic_ns();
		int status = 0;
		pid_t pid = fork();

		if (pid < 0)
			bench_die("fork", NULL);
		if (pid == 0) {
			execl("/proc/self/exe", self, "--config", config_path,
			      "--user", user, "--once", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench-decision: a --once run failed or denied (status %d)\n",
				status);
			exit(1);
		}
		samples[i] = bench_monotonic_ns() - start;
	}
	bench_print_percentiles("decision_fresh_process", samples, (size_t)count);
	free(samples);
}

/* One grant of the store, for the verify floor. */
static void load_one_grant(const jit_config *config, const char *user,
			   jit_stored_grant **grants, size_t *count)
{
	jit_store *store = NULL;
	jit_error error;

	if (jit_store_open(config->store, JIT_STORE_READ, &store, &error) != JIT_OK ||
	    jit_store_load_user(store, user, JIT_MAX_GRANTS_PER_USER, grants,
				count, &error) != JIT_OK)
		bench_die("loading a grant", &error);
	jit_store_close(store);
	if (*count == 0)
		bench_die("the bench store has no grant for the user", NULL);
}

static void measure_floor(const jit_config *config, const char *user, long n)
{
	int64_t *samples = calloc((size_t)n, sizeof(*samples));
	jit_stored_grant *grants = NULL;
	jit_keyring *keys = NULL;
	size_t count = 0;
	jit_error error;

	if (samples == NULL)
		bench_die("allocating samples", NULL);
	load_one_grant(config, user, &grants, &count);
	if (jit_keyring_load(config->trusted_keys, &keys, &error) != JIT_OK)
		bench_die("loading the trusted keys", &error);

	for (long i = 0; i < n; i++) {
		jit_grant *grant = NULL;
		int64_t start = bench_monotonic_ns();

		if (jit_grant_verify(grants[0].blob, grants[0].blob_len, keys,
				     &grant, &error) != JIT_OK)
			bench_die("verifying a grant", &error);
		samples[i] = bench_monotonic_ns() - start;
		jit_grant_free(grant);
	}
	bench_print_percentiles("floor_grant_verify", samples, (size_t)n);

	for (long i = 0; i < n; i++) {
		jit_store *store = NULL;
		int64_t start = bench_monotonic_ns();

		if (jit_store_open(config->store, JIT_STORE_READ, &store,
				   &error) != JIT_OK)
			bench_die("opening the store", &error);
		jit_store_close(store);
		samples[i] = bench_monotonic_ns() - start;
	}
	bench_print_percentiles("floor_store_open_close", samples, (size_t)n);

	jit_keyring_free(keys);
	jit_stored_grants_free(grants, count);
	free(samples);
}

/* The original mode: a private environment in /tmp, removed afterwards. */
static int run_self_contained(long grants, long users, long rounds)
{
	char dir[] = "/tmp/jit-bench.XXXXXX";
	jit_issuer_key *key = NULL;
	jit_config *config = NULL;
	char command[64];

	if (grants < 1 || users < 1 || rounds < 1 || mkdtemp(dir) == NULL)
		return 2;

	bench_env_create(dir, &config, &key);
	bench_fill(config, key, grants, users, 0, jit_clock_now_ms() / 1000);

	printf("decision latency, in process, warm: %ld grants over %ld users (%ld per user), %ld checks\n",
	       grants, users, (grants + users - 1) / users, rounds);
	measure_warm(config, "user7", rounds);

	jit_issuer_key_free(key);
	jit_config_free(config);
	snprintf(command, sizeof(command), "rm -rf -- '%s'", dir);
	return system(command) == 0 ? 0 : 1;
}

static int parse_options(int argc, char **argv, options *opts)
{
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "spawn", required_argument, NULL, 's' },
		{ "floor", required_argument, NULL, 'f' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': opts->config_path = optarg; break;
		case 'u': opts->user = optarg; break;
		case 'r': opts->rounds = atol(optarg); break;
		case 's': opts->spawn = atol(optarg); break;
		case 'f': opts->floor = atol(optarg); break;
		case 'o': opts->once = 1; break;
		default: return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	options opts = { .user = "user0" };
	jit_config *config = NULL;
	jit_error error;

	if (argc < 2 || strncmp(argv[1], "--", 2) != 0)
		return run_self_contained(argc > 1 ? atol(argv[1]) : 10000,
					  argc > 2 ? atol(argv[2]) : 1000,
					  argc > 3 ? atol(argv[3]) : 2000);

	if (parse_options(argc, argv, &opts) != 0 || opts.config_path == NULL) {
		fprintf(stderr, "usage: bench-decision --config PATH [--user NAME] --rounds N | --spawn N | --once | --floor N\n");
		return 2;
	}
	if (opts.once)
		return run_once(opts.config_path, opts.user);
	if (opts.spawn > 0) {
		measure_spawn(argv[0], opts.config_path, opts.user, opts.spawn);
		return 0;
	}

	if (jit_config_load(opts.config_path, &config, &error) != JIT_OK)
		bench_die("loading the configuration", &error);
	if (opts.rounds > 0)
		measure_warm(config, opts.user, opts.rounds);
	if (opts.floor > 0)
		measure_floor(config, opts.user, opts.floor);
	jit_config_free(config);
	return 0;
}
