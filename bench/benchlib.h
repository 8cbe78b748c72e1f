/* Helpers shared by the benchmark tools: clocks, percentiles, and bench
 * environments (a configuration, an issuer key, its trusted public key and
 * a store, all in one folder). */
#ifndef JIT_BENCHLIB_H
#define JIT_BENCHLIB_H

#include <stddef.h>
#include <stdint.h>

#include "jit/config.h"
#include "jit/error.h"
#include "jit/keys.h"

/* Host name written into bench configurations and every bench grant. */
#define BENCH_HOSTNAME "bench"

int64_t bench_monotonic_ns(void);

/* Prints "what: message" on stderr and exits with status 1. */
void bench_die(const char *what, const jit_error *error)
	__attribute__((noreturn));

/* Sorts samples (nanoseconds) and prints one line for bench/run to read:
 * "NAME n=N p50_us=X p90_us=X p99_us=X max_us=X". */
void bench_print_percentiles(const char *name, int64_t *samples, size_t count);

/* Creates dir when missing, then dir/jit.conf, dir/issuer.key, dir/trusted.d and an empty store
 * in dir/store, then loads the configuration and the issuer key. */
void bench_env_create(const char *dir, jit_config **config,
		      jit_issuer_key **key);

/* Signs and stores a number of grants spread over a number of users
 * ("user0", "user1", ...: grant i belongs to user i % users), each for
 * /usr/bin/true on the bench host. When expired_every > 0, grant i with
 * i % expired_every == expired_every - 1 ended an hour before now. The
 * others last from a minute before now to a day after it. */
void bench_fill(const jit_config *config, const jit_issuer_key *key,
		long grants, long users, long expired_every, int64_t now);

#endif
