/* Measures jit_check latency in process: a store with GRANTS grants spread
 * over USERS users, then ROUNDS checks of one user's command, each opening
 * and closing the store and verifying that user's grants as sudo would.
 *
 * usage: bench-decision [GRANTS [USERS [ROUNDS]]]   (defaults 10000 1000 2000)
 * Prints p50, p90, p99 and max in microseconds. Needs root (the store and
 * key files must be root-owned). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void die(const char *what, const jit_error *error)
{
	fprintf(stderr, "bench-decision: %s: %s\n", what, error->message);
	exit(1);
}

static void fill_store(const jit_config *config, const jit_issuer_key *key,
		       long grants, long users, int64_t now)
{
	jit_store *store = NULL;
	jit_error error;

	if (jit_store_open(config->store, JIT_STORE_WRITE, &store, &error) != JIT_OK)
		die("open store", &error);

	for (long i = 0; i < grants; i++) {
		jit_grant grant = { 0 };
		char user[32];
		uint8_t *blob = NULL;
		size_t len = 0;

		snprintf(user, sizeof(user), "user%ld", i % users);
		jit_grant_new_id(&grant);
		grant.not_before = now - 60;
		grant.not_after = now + 3600;
		grant.issued_at = now - 60;
		grant.user = user;
		grant.role = "bench";
		grant.request_id = "";
		grant.requester = "root";
		grant.reason = "benchmark";
		jit_strlist_append(&grant.hosts, config->hostname);
		jit_strlist_append(&grant.approvers, "root");
		jit_grant_add_command(&grant, "/usr/bin/true", NULL, NULL);

		if (jit_grant_sign(&grant, key, &blob, &len, &error) != JIT_OK ||
		    jit_store_put_grant(store, grant.id, user, grant.not_after,
					blob, len, &error) != JIT_OK)
			die("add grant", &error);

		free(blob);
		grant.user = grant.role = grant.request_id = NULL;
		grant.requester = grant.reason = NULL;
		jit_strlist_clear(&grant.hosts);
		jit_strlist_clear(&grant.approvers);
		for (size_t c = 0; c < grant.command_count; c++) {
			free(grant.commands[c].path);
			jit_strlist_clear(&grant.commands[c].args);
		}
		free(grant.commands);
	}
	jit_store_close(store);
}

int main(int argc, char **argv)
{
	long grants = argc > 1 ? atol(argv[1]) : 10000;
	long users = argc > 2 ? atol(argv[2]) : 1000;
	long rounds = argc > 3 ? atol(argv[3]) : 2000;
	char dir[] = "/tmp/jit-bench.XXXXXX";
	char path[256], text[1024], command[300];
	jit_issuer_key *key = NULL;
	jit_config *config = NULL;
	jit_error error;
	int64_t *samples, now = jit_clock_now_ms() / 1000;
	jit_access access = { .kind = JIT_ACCESS_COMMAND, .user = "user7",
			      .command = "/usr/bin/true" };

	if (grants < 1 || users < 1 || rounds < 1 || mkdtemp(dir) == NULL)
		return 2;

	snprintf(text, sizeof(text),
		 "[jit]\nstore = %s/store\nissuer_key = %s/issuer.key\n"
		 "trusted_keys = %s/trusted.d\nhostname = bench\n", dir, dir, dir);
	if (jit_config_parse("bench.conf", text, &config, &error) != JIT_OK)
		die("config", &error);

	snprintf(path, sizeof(path), "%s/trusted.d", dir);
	mkdir(path, 0755);
	if (jit_issuer_key_generate(config->issuer_key, &error) != JIT_OK ||
	    jit_issuer_key_load(config->issuer_key, &key, &error) != JIT_OK ||
	    jit_issuer_key_write_public(key, path, &error) != JIT_OK ||
	    jit_store_create(config->store, &error) != JIT_OK)
		die("init", &error);

	fill_store(config, key, grants, users, now);

	samples = calloc((size_t)rounds, sizeof(*samples));
	for (long i = 0; i < rounds; i++) {
		jit_decision decision;
		int64_t start = monotonic_ns();

		jit_check(config, &access, jit_clock_now_ms(), &decision);
		samples[i] = monotonic_ns() - start;
		if (!jit_decision_allowed(&decision)) {
			fprintf(stderr, "bench-decision: unexpected denial: %s\n",
				decision.detail);
			return 1;
		}
	}
	qsort(samples, (size_t)rounds, sizeof(*samples), compare_i64);

	printf("decision latency, in process, warm: %ld grants over %ld users (%ld per user), %ld checks\n",
	       grants, users, (grants + users - 1) / users, rounds);
	printf("  p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n",
	       (double)samples[rounds / 2] / 1000.0,
	       (double)samples[rounds * 9 / 10] / 1000.0,
	       (double)samples[rounds * 99 / 100] / 1000.0,
	       (double)samples[rounds - 1] / 1000.0);

	free(samples);
	jit_issuer_key_free(key);
	jit_config_free(config);
	snprintf(command, sizeof(command), "rm -rf -- '%s'", dir);
	return system(command) == 0 ? 0 : 1;
}
