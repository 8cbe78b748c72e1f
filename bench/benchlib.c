#include "benchlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "jit/grant.h"
#include "jit/store.h"

int64_t bench_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_die(const char *what, const jit_error *error)
{
	fprintf(stderr, "bench: %s: %s\n", what,
		error != NULL ? error->message : "failed");
	exit(1);
}

static int compare_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void bench_print_percentiles(const char *name, int64_t *samples, size_t count)
{
	if (count == 0)
		return;
	qsort(samples, count, sizeof(*samples), compare_i64);
	printf("%s n=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       name, count,
	       (double)samples[count / 2] / 1000.0,
	       (double)samples[count * 9 / 10] / 1000.0,
	       (double)samples[count * 99 / 100] / 1000.0,
	       (double)samples[count - 1] / 1000.0);
}

static void write_config(const char *dir, const char *path)
{
	FILE *file = fopen(path, "we");

	if (file == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(file,
		"[jit]\nstore = %s/store\nissuer_key = %s/issuer.key\n"
		"trusted_keys = %s/trusted.d\nhostname = " BENCH_HOSTNAME "\n",
		dir, dir, dir);
	if (fchmod(fileno(file), 0644) != 0 || fclose(file) != 0) {
		perror(path);
		exit(1);
	}
}

void bench_env_create(const char *dir, jit_config **config,
		      jit_issuer_key **key)
{
	char path[4096];
	jit_error error;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/jit.conf", dir);
	write_config(dir, path);
	if (jit_config_load(path, config, &error) != JIT_OK)
		bench_die("loading the bench configuration", &error);

	if (mkdir((*config)->trusted_keys, 0755) != 0) {
		perror((*config)->trusted_keys);
		exit(1);
	}
	if (jit_issuer_key_generate((*config)->issuer_key, &error) != JIT_OK ||
	    jit_issuer_key_load((*config)->issuer_key, key, &error) != JIT_OK ||
	    jit_issuer_key_write_public(*key, (*config)->trusted_keys,
					&error) != JIT_OK ||
	    jit_store_create((*config)->store, &error) != JIT_OK)
		bench_die("creating the bench keys and store", &error);
}

static void grant_clear(jit_grant *grant)
{
	jit_strlist_clear(&grant->hosts);
	jit_strlist_clear(&grant->approvers);
	for (size_t c = 0; c < grant->command_count; c++) {
		free(grant->commands[c].path);
		jit_strlist_clear(&grant->commands[c].args);
	}
	free(grant->commands);
	grant->commands = NULL;
	grant->command_count = 0;
}

static void store_one(jit_store *store, const jit_issuer_key *key,
		      const char *user, bool expired, int64_t now)
{
	jit_grant grant = { .version = JIT_GRANT_VERSION };
	uint8_t *blob = NULL;
	size_t len = 0;
	jit_error error;

	jit_grant_new_id(&grant);
	grant.not_before = expired ? now - 7200 : now - 60;
	grant.not_after = expired ? now - 3600 : now + 86400;
	grant.issued_at = grant.not_before;
	/* The grant only borrows these strings; grant_clear leaves them. */
	grant.user = (char *)user;
	grant.role = "bench";
	grant.request_id = "";
	grant.requester = "root";
	grant.reason = "benchmark";
	if (jit_strlist_append(&grant.hosts, BENCH_HOSTNAME) != JIT_OK ||
	    jit_strlist_append(&grant.approvers, "root") != JIT_OK ||
	    jit_grant_add_command(&grant, "/usr/bin/true", NULL, &error) != JIT_OK)
		bench_die("building a grant", NULL);

	if (jit_grant_sign(&grant, key, &blob, &len, &error) != JIT_OK ||
	    jit_store_put_grant(store, grant.id, user, grant.not_after, blob,
				len, &error) != JIT_OK)
		bench_die("storing a grant", &error);

	free(blob);
	grant_clear(&grant);
}

void bench_fill(const jit_config *config, const jit_issuer_key *key,
		long grants, long users, long expired_every, int64_t now)
{
	jit_store *store = NULL;
	jit_error error;

	if (jit_store_open(config->store, JIT_STORE_WRITE, &store, &error) != JIT_OK)
		bench_die("opening the bench store", &error);

	for (long i = 0; i < grants; i++) {
		bool expired = expired_every > 0 &&
			       i % expired_every == expired_every - 1;
		char user[32];

		snprintf(user, sizeof(user), "user%ld", i % users);
		store_one(store, key, user, expired, now);
		if ((i + 1) % 100000 == 0)
			fprintf(stderr, "bench: stored %ld of %ld grants\n",
				i + 1, grants);
	}
	jit_store_close(store);
}
