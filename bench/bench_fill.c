/* Creates a bench environment in an empty folder and fills its store.
 *
 * usage: bench-fill DIR GRANTS USERS [EXPIRED_EVERY]
 *
 * DIR gets jit.conf, issuer.key, trusted.d/ and store/. GRANTS grants go
 * to USERS users named user0, user1, ...; every EXPIRED_EVERY-th grant
 * (default 0: none) is already expired. Each grant is written in its own
 * transaction, as jitctl grant does, so a fill of a million grants is best
 * done on a tmpfs and copied. Needs root (key files must be root-owned). */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"
#include "jit/timeutil.h"

int main(int argc, char **argv)
{
	jit_issuer_key *key = NULL;
	jit_config *config = NULL;
	long grants, users, expired_every;
	int64_t start;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: bench-fill DIR GRANTS USERS [EXPIRED_EVERY]\n");
		return 2;
	}
	grants = atol(argv[2]);
	users = atol(argv[3]);
	expired_every = argc > 4 ? atol(argv[4]) : 0;
	if (grants < 1 || users < 1 || expired_every < 0) {
		fprintf(stderr, "bench-fill: GRANTS and USERS must be 1 or more, EXPIRED_EVERY 0 or more\n");
		return 2;
	}

	bench_env_create(argv[1], &config, &key);
	start = bench_monotonic_ns();
	bench_fill(config, key, grants, users, expired_every,
		   jit_clock_now_ms() / 1000);
	fprintf(stderr, "bench-fill: %ld grants in %.1f s\n", grants,
		(double)(bench_monotonic_ns() - start) / 1e9);

	jit_issuer_key_free(key);
	jit_config_free(config);
	return 0;
}
