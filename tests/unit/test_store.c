/* Tests of the LMDB store. They run as root, because the store folder and
 * files must be owned by root. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MANY 1000

typedef struct reap_log {
	size_t calls;
	uint8_t ids[64][JIT_GRANT_ID_LEN];
	char users[64][16];
	int64_t not_after[64];
} reap_log;

static void make_id(uint8_t id[JIT_GRANT_ID_LEN], unsigned n)
{
	memset(id, 0xa5, JIT_GRANT_ID_LEN);
	id[0] = (uint8_t)(n >> 8);
	id[1] = (uint8_t)n;
}

static char *make_store(void)
{
	jit_error error;
	char *dir = test_mkdtemp();

	assert_int_equal(jit_store_create(dir, &error), JIT_OK);
	return dir;
}

static jit_store *open_store(const char *dir, jit_store_mode mode)
{
	jit_store *store = NULL;
	jit_error error;
	jit_err r;

	r = jit_store_open(dir, mode, &store, &error);
	if (r != JIT_OK)
		fail_msg("opening %s: %s", dir, error.message);
	return store;
}

/* Stores grant n for user with a blob of arbitrary bytes that encodes n. */
static jit_err put(jit_store *store, unsigned n, const char *user,
		   int64_t not_after, jit_error *error)
{
	uint8_t id[JIT_GRANT_ID_LEN];
	uint8_t blob[3] = { 0x00, (uint8_t)(n >> 8), (uint8_t)n };

	make_id(id, n);
	return jit_store_put_grant(store, id, user, not_after, blob,
				   sizeof(blob), error);
}

static size_t user_grant_count(jit_store *store, const char *user)
{
	jit_stored_grant *grants = NULL;
	jit_error error;
	size_t count = 0;

	assert_int_equal(jit_store_load_user(store, user, 10000, &grants,
					     &count, &error), JIT_OK);
	jit_stored_grants_free(grants, count);
	return count;
}

static void log_removed(const uint8_t id[JIT_GRANT_ID_LEN], const char *user,
			int64_t not_after, void *context)
{
	reap_log *log = context;

	if (log->calls < 64) {
		memcpy(log->ids[log->calls], id, JIT_GRANT_ID_LEN);
		snprintf(log->users[log->calls], sizeof(log->users[0]), "%s",
			 user);
		log->not_after[log->calls] = not_after;
	}
	log->calls++;
}

static size_t count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	size_t count = 0;

	assert_non_null(dir);
	while ((entry = readdir(dir)) != NULL)
		if (entry->d_name[0] != '.')
			count++;
	closedir(dir);
	return count;
}

/* Counts descriptors pointing into folder, and fails the test when one of
 * them is not close-on-exec. */
static size_t count_store_fds(const char *folder)
{
	char real[PATH_MAX], link[PATH_MAX + 32], target[PATH_MAX];
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	size_t count = 0;

	assert_non_null(realpath(folder, real));
	assert_non_null(dir);
	while ((entry = readdir(dir)) != NULL) {
		ssize_t len;
		int fd = atoi(entry->d_name);

		if (entry->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", entry->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, real, strlen(real)) != 0 ||
		    target[strlen(real)] != '/')
			continue;
		if ((fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0)
			fail_msg("descriptor %d to %s is inheritable", fd, target);
		count++;
	}
	closedir(dir);
	return count;
}

static mode_t file_mode(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static bool file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_create_then_open_both_modes(void **state)
{
	jit_store *store;
	struct stat st;
	char *dir = test_mkdtemp();
	jit_error error;

	(void)state;
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(jit_store_create(dir, &error), JIT_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 0);
	assert_true(file_exists(dir, "data.mdb"));
	assert_true(file_exists(dir, "lock.mdb"));

	/* Creating again is harmless and tightens the folder mode. */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(jit_store_create(dir, &error), JIT_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	store = open_store(dir, JIT_STORE_WRITE);
	jit_store_close(store);
	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(user_grant_count(store, "alice"), 0);
	jit_store_close(store);
	jit_store_close(NULL);

	test_rmtree(dir);
	free(dir);
}

static void test_put_then_get(void **state)
{
	uint8_t id[JIT_GRANT_ID_LEN], blob[300];
	jit_stored_grant grant;
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	blob[5] = 0;
	make_id(id, 1);

	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(jit_store_put_grant(store, id, "alice", 2000, blob,
					     sizeof(blob), &error), JIT_OK);
	jit_store_close(store);

	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(jit_store_get_grant(store, id, &grant, &error), JIT_OK);
	assert_memory_equal(grant.id, id, JIT_GRANT_ID_LEN);
	assert_int_equal(grant.blob_len, sizeof(blob));
	assert_memory_equal(grant.blob, blob, sizeof(blob));
	assert_false(grant.revoked);
	jit_stored_grant_clear(&grant);
	assert_null(grant.blob);
	jit_stored_grant_clear(NULL);

	make_id(id, 2);
	assert_int_equal(jit_store_get_grant(store, id, &grant, &error),
			 JIT_ERR_NOT_FOUND);
	assert_non_null(strstr(error.message, dir));
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_put_same_id_twice_exists(void **state)
{
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(put(store, 1, "alice", 100, &error), JIT_OK);
	assert_int_equal(put(store, 1, "bob", 200, &error), JIT_ERR_EXISTS);
	assert_int_equal(user_grant_count(store, "alice"), 1);
	assert_int_equal(user_grant_count(store, "bob"), 0);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_put_rejects_bad_input(void **state)
{
	uint8_t id[JIT_GRANT_ID_LEN], byte = 1;
	uint8_t *big = calloc(1, JIT_GRANT_MAX_BLOB + 1);
	char long_user[300];
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	assert_non_null(big);
	memset(long_user, 'a', sizeof(long_user) - 1);
	long_user[sizeof(long_user) - 1] = '\0';
	make_id(id, 1);

	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(jit_store_put_grant(store, id, "", 1, &byte, 1, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_put_grant(store, id, long_user, 1, &byte, 1,
					     &error), JIT_ERR_INVALID);
	assert_int_equal(jit_store_put_grant(store, id, "alice", 1, &byte, 0,
					     &error), JIT_ERR_INVALID);
	assert_int_equal(jit_store_put_grant(store, id, "alice", -1, &byte, 1,
					     &error), JIT_ERR_RANGE);
	assert_int_equal(jit_store_put_grant(store, id, "alice", 1, big,
					     JIT_GRANT_MAX_BLOB + 1, &error),
			 JIT_ERR_TOO_LARGE);
	assert_int_equal(jit_store_put_grant(store, id, "alice", 1, big,
					     JIT_GRANT_MAX_BLOB, &error), JIT_OK);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
	free(big);
}

static void test_read_handle_rejects_writes(void **state)
{
	jit_revocation revocation = { 1, "root", "test" };
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t removed;

	(void)state;
	make_id(id, 1);
	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(put(store, 1, "alice", 100, &error), JIT_ERR_INVALID);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_store_reap(store, 100, 10, NULL, NULL, &removed,
					&error), JIT_ERR_INVALID);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_load_user_returns_own_grants(void **state)
{
	jit_stored_grant *grants = NULL;
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t count = 0;
	unsigned seen = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 6; n++)
		assert_int_equal(put(store, n, n % 2 == 0 ? "alice" : "bob",
				     1000 + n, &error), JIT_OK);
	assert_int_equal(put(store, 6, "alice2", 1000, &error), JIT_OK);
	jit_store_close(store);

	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(jit_store_load_user(store, "alice", 100, &grants, &count,
					     &error), JIT_OK);
	assert_int_equal(count, 3);
	for (size_t i = 0; i < count; i++) {
		unsigned n = grants[i].blob[2];

		assert_int_equal(grants[i].blob_len, 3);
		assert_int_equal(n % 2, 0);
		assert_int_equal(grants[i].id[1], n);
		assert_false(grants[i].revoked);
		seen |= 1u << n;
	}
	assert_int_equal(seen, 0x15);
	jit_stored_grants_free(grants, count);

	assert_int_equal(user_grant_count(store, "bob"), 3);
	assert_int_equal(user_grant_count(store, "alice2"), 1);
	assert_int_equal(user_grant_count(store, "carol"), 0);
	assert_int_equal(user_grant_count(store, "alic"), 0);
	jit_store_close(store);
	jit_stored_grants_free(NULL, 0);

	test_rmtree(dir);
	free(dir);
}

static void test_load_user_over_limit_too_large(void **state)
{
	jit_stored_grant *grants = NULL;
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t count = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 5; n++)
		assert_int_equal(put(store, n, "alice", 1000, &error), JIT_OK);

	assert_int_equal(jit_store_load_user(store, "alice", 5, &grants, &count,
					     &error), JIT_OK);
	assert_int_equal(count, 5);
	jit_stored_grants_free(grants, count);

	assert_int_equal(jit_store_load_user(store, "alice", 4, &grants, &count,
					     &error), JIT_ERR_TOO_LARGE);
	assert_null(grants);
	assert_int_equal(count, 0);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

/* Counts visits; stops after stop_after of them, or fails at fail_at. */
typedef struct visit_count {
	unsigned visits;
	unsigned stop_after;
	unsigned fail_at;
} visit_count;

static jit_err count_visit(jit_stored_grant *grant, bool *stop, void *context,
			   jit_error *error)
{
	visit_count *counter = context;

	assert_int_equal(grant->blob_len, 3);
	counter->visits++;
	if (counter->visits == counter->fail_at)
		return jit_error_set(error, JIT_ERR_NOMEM, "visitor failed");
	*stop = counter->visits == counter->stop_after;
	return JIT_OK;
}

static void test_visit_user_stops_early(void **state)
{
	visit_count counter = { .stop_after = 2 };
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 5; n++)
		assert_int_equal(put(store, n, "alice", 1000, &error), JIT_OK);

	assert_int_equal(jit_store_visit_user(store, "alice", 100, count_visit,
					      &counter, &error), JIT_OK);
	assert_int_equal(counter.visits, 2);

	/* A walk that stops before the limit is not over it. */
	counter = (visit_count){ .stop_after = 1 };
	assert_int_equal(jit_store_visit_user(store, "alice", 1, count_visit,
					      &counter, &error), JIT_OK);
	assert_int_equal(counter.visits, 1);

	counter = (visit_count){ 0 };
	assert_int_equal(jit_store_visit_user(store, "alice", 4, count_visit,
					      &counter, &error), JIT_ERR_TOO_LARGE);
	assert_int_equal(counter.visits, 4);
	assert_non_null(strstr(error.message, "more than 4 stored"));

	counter = (visit_count){ .fail_at = 3 };
	assert_int_equal(jit_store_visit_user(store, "alice", 100, count_visit,
					      &counter, &error), JIT_ERR_NOMEM);
	assert_int_equal(counter.visits, 3);
	assert_string_equal(error.message, "visitor failed");

	assert_int_equal(jit_store_visit_user(store, "alice", 100, NULL, NULL,
					      &error), JIT_ERR_INVALID);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_load_all_lists_every_grant(void **state)
{
	jit_stored_grant *grants = NULL;
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t count = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 40; n++)
		assert_int_equal(put(store, n, n % 3 == 0 ? "alice" : "bob", 1000,
				     &error), JIT_OK);
	assert_int_equal(jit_store_load_all(store, &grants, &count, &error),
			 JIT_OK);
	assert_int_equal(count, 40);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(grants[i].blob[2], grants[i].id[1]);
	jit_stored_grants_free(grants, count);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_revoke_then_load_shows_revoked(void **state)
{
	jit_revocation revocation = { 1234567890123, "carol", "left the team" };
	jit_revocation read = { 0 };
	jit_stored_grant *grants = NULL;
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_stored_grant grant;
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t count = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(put(store, 1, "alice", 1000, &error), JIT_OK);
	assert_int_equal(put(store, 2, "alice", 1000, &error), JIT_OK);
	make_id(id, 1);
	assert_int_equal(jit_store_get_revocation(store, id, &read, &error),
			 JIT_ERR_NOT_FOUND);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error), JIT_OK);
	jit_store_close(store);

	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(jit_store_load_user(store, "alice", 10, &grants, &count,
					     &error), JIT_OK);
	assert_int_equal(count, 2);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(grants[i].revoked, grants[i].id[1] == 1);
	jit_stored_grants_free(grants, count);

	assert_int_equal(jit_store_get_grant(store, id, &grant, &error), JIT_OK);
	assert_true(grant.revoked);
	jit_stored_grant_clear(&grant);

	assert_int_equal(jit_store_get_revocation(store, id, &read, &error),
			 JIT_OK);
	assert_int_equal(read.revoked_at, revocation.revoked_at);
	assert_string_equal(read.actor, "carol");
	assert_string_equal(read.reason, "left the team");
	jit_revocation_clear(&read);
	assert_null(read.actor);
	jit_revocation_clear(NULL);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_revoke_twice_exists(void **state)
{
	jit_revocation revocation = { 10, "carol", "" };
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	make_id(id, 1);
	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(put(store, 1, "alice", 1000, &error), JIT_OK);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error), JIT_OK);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error),
			 JIT_ERR_EXISTS);
	assert_non_null(strstr(error.message, "already revoked"));
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_revoke_unknown_not_found(void **state)
{
	jit_revocation revocation = { 10, "carol", "reason" };
	jit_revocation read = { 0 };
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_store *store;
	char *dir = make_store();
	jit_error error;

	(void)state;
	make_id(id, 7);
	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error),
			 JIT_ERR_NOT_FOUND);
	assert_non_null(strstr(error.message, "a5a5"));
	assert_int_equal(jit_store_get_revocation(store, id, &read, &error),
			 JIT_ERR_NOT_FOUND);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_reap_removes_only_expired(void **state)
{
	reap_log log = { 0 };
	jit_revocation revocation = { 10, "carol", "reason" };
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t removed = 99;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	/* Grants 0..4 end at or before 1000 and grants 5..9 after it. One of
	 * each kind is revoked. */
	for (unsigned n = 0; n < 10; n++)
		assert_int_equal(put(store, n, n % 2 ? "bob" : "alice",
				     996 + (int64_t)n, &error), JIT_OK);
	make_id(id, 2);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error), JIT_OK);
	make_id(id, 8);
	assert_int_equal(jit_store_revoke(store, id, &revocation, &error), JIT_OK);

	assert_int_equal(jit_store_reap(store, 1000, 100, log_removed, &log,
					&removed, &error), JIT_OK);
	assert_int_equal(removed, 5);
	assert_int_equal(log.calls, 5);
	for (size_t i = 0; i < log.calls; i++) {
		/* The expiry index is walked in time order. */
		assert_int_equal(log.ids[i][1], i);
		assert_int_equal(log.not_after[i], 996 + (int64_t)i);
		assert_string_equal(log.users[i], i % 2 ? "bob" : "alice");
	}

	assert_int_equal(user_grant_count(store, "alice"), 2);
	assert_int_equal(user_grant_count(store, "bob"), 3);
	make_id(id, 2);
	{
		jit_revocation read = { 0 };

		assert_int_equal(jit_store_get_revocation(store, id, &read, &error),
				 JIT_ERR_NOT_FOUND);
		make_id(id, 8);
		assert_int_equal(jit_store_get_revocation(store, id, &read, &error),
				 JIT_OK);
		jit_revocation_clear(&read);
	}

	log.calls = 0;
	assert_int_equal(jit_store_reap(store, 1000, 100, log_removed, &log,
					&removed, &error), JIT_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(log.calls, 0);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_reap_in_batches_of_three(void **state)
{
	reap_log log = { 0 };
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t removed = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 10; n++)
		assert_int_equal(put(store, n, "alice", 100, &error), JIT_OK);
	for (unsigned n = 10; n < 14; n++)
		assert_int_equal(put(store, n, "alice", 5000, &error), JIT_OK);

	assert_int_equal(jit_store_reap(store, 4999, 3, log_removed, &log,
					&removed, &error), JIT_OK);
	assert_int_equal(removed, 10);
	assert_int_equal(log.calls, 10);
	assert_int_equal(user_grant_count(store, "alice"), 4);

	assert_int_equal(jit_store_reap(store, 4999, 3, NULL, NULL, &removed,
					&error), JIT_OK);
	assert_int_equal(removed, 0);
	assert_int_equal(jit_store_reap(store, 5000, 3, NULL, NULL, &removed,
					&error), JIT_OK);
	assert_int_equal(removed, 4);
	assert_int_equal(jit_store_reap(store, 5000, 0, NULL, NULL, &removed,
					&error), JIT_ERR_INVALID);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_reap_keeps_64bit_times(void **state)
{
	const int64_t times[] = { INT32_MAX, (int64_t)INT32_MAX + 1,
				  (int64_t)UINT32_MAX + 1, INT64_MAX };
	reap_log log = { 0 };
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t removed = 0;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 4; n++)
		assert_int_equal(put(store, n, "alice", times[3 - n], &error),
				 JIT_OK);
	assert_int_equal(jit_store_reap(store, (int64_t)UINT32_MAX + 1, 2,
					log_removed, &log, &removed, &error),
			 JIT_OK);
	assert_int_equal(removed, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(log.not_after[i], times[i]);
	assert_int_equal(jit_store_reap(store, INT64_MAX, 2, log_removed, &log,
					&removed, &error), JIT_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(log.not_after[3], INT64_MAX);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

/* Runs in a forked child, so it reports through its exit status instead of
 * cmocka asserts. */
static int reap_in_child(const char *dir, int out)
{
	jit_store *store = NULL;
	jit_error error;
	size_t removed = 0;
	jit_err r;

	r = jit_store_open(dir, JIT_STORE_WRITE, &store, &error);
	if (r == JIT_OK)
		r = jit_store_reap(store, 1000, 2, NULL, NULL, &removed, &error);
	jit_store_close(store);
	if (r != JIT_OK)
		return 1;
	return write(out, &removed, sizeof(removed)) == sizeof(removed) ? 0 : 2;
}

static void test_reap_concurrent_counts_once(void **state)
{
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t total = 0;
	pid_t pids[2];
	int fds[2];

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 300; n++)
		assert_int_equal(put(store, n, n % 2 ? "alice" : "bob",
				     n < 250 ? 500 + (int64_t)n : 2000, &error),
				 JIT_OK);
	jit_store_close(store);

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(reap_in_child(dir, fds[1]));
	}
	close(fds[1]);

	for (int i = 0; i < 2; i++) {
		size_t removed = 0;
		int status = 0;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_int_equal(read(fds[0], &removed, sizeof(removed)),
				 sizeof(removed));
		total += removed;
	}
	close(fds[0]);
	assert_int_equal(total, 250);

	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(user_grant_count(store, "alice") +
			 user_grant_count(store, "bob"), 50);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_full_store_then_reap_frees_space(void **state)
{
	uint8_t blob[200], id[JIT_GRANT_ID_LEN];
	jit_stored_grant grant;
	jit_store *store = NULL;
	char *dir = test_mkdtemp();
	jit_error error;
	size_t removed = 0;
	unsigned stored = 0;
	jit_err r = JIT_OK;

	(void)state;
	memset(blob, 0x5a, sizeof(blob));
	assert_int_equal(jit_store_open_sized(dir, JIT_STORE_WRITE, 128 * 1024,
					      &store, &error), JIT_OK);

	while (stored < MANY) {
		make_id(id, stored);
		r = jit_store_put_grant(store, id, "alice", 100, blob,
					sizeof(blob), &error);
		if (r != JIT_OK)
			break;
		stored++;
	}
	assert_int_equal(r, JIT_ERR_STORE_FULL);
	assert_true(stored > 10);
	assert_non_null(strstr(error.message, "store full"));
	assert_non_null(strstr(error.message, "jitctl reap"));
	assert_non_null(strstr(error.message, dir));

	/* The failed put left nothing behind. */
	assert_int_equal(user_grant_count(store, "alice"), stored);
	assert_int_equal(jit_store_get_grant(store, id, &grant, &error),
			 JIT_ERR_NOT_FOUND);

	assert_int_equal(jit_store_reap(store, 100, 3, NULL, NULL, &removed,
					&error), JIT_OK);
	assert_int_equal(removed, stored);
	assert_int_equal(user_grant_count(store, "alice"), 0);

	assert_int_equal(jit_store_put_grant(store, id, "alice", 200, blob,
					     sizeof(blob), &error), JIT_OK);
	assert_int_equal(user_grant_count(store, "alice"), 1);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void check_modes_under_umask(mode_t mask)
{
	mode_t old = umask(mask);
	char *dir = test_mkdtemp();
	jit_error error;

	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(jit_store_create(dir, &error), JIT_OK);
	umask(old);

	assert_int_equal(file_mode(dir, "."), 0700);
	assert_int_equal(file_mode(dir, "data.mdb"), 0600);
	assert_int_equal(file_mode(dir, "lock.mdb"), 0600);

	test_rmtree(dir);
	free(dir);
}

static void test_file_modes_ignore_umask(void **state)
{
	(void)state;
	check_modes_under_umask(0);
	check_modes_under_umask(077);
	check_modes_under_umask(0777);
}

static void test_store_fds_close_on_exec(void **state)
{
	jit_stored_grant *grants = NULL;
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	size_t before, count = 0;

	(void)state;
	before = count_fds();
	assert_int_equal(count_store_fds(dir), 0);

	store = open_store(dir, JIT_STORE_WRITE);
	assert_true(count_store_fds(dir) >= 2);
	assert_int_equal(put(store, 1, "alice", 100, &error), JIT_OK);
	jit_store_close(store);
	assert_int_equal(count_store_fds(dir), 0);
	assert_int_equal(count_fds(), before);

	store = open_store(dir, JIT_STORE_READ);
	assert_true(count_store_fds(dir) >= 2);
	assert_int_equal(jit_store_load_user(store, "alice", 10, &grants, &count,
					     &error), JIT_OK);
	jit_stored_grants_free(grants, count);
	jit_store_close(store);
	assert_int_equal(count_store_fds(dir), 0);
	assert_int_equal(count_fds(), before);

	test_rmtree(dir);
	free(dir);
}

static void test_read_open_missing_folder_fails(void **state)
{
	jit_store *store = (jit_store *)&store;
	char *dir = test_mkdtemp();
	jit_error error;

	(void)state;
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_NOT_FOUND);
	assert_null(store);
	assert_non_null(strstr(error.message, dir));
	assert_int_equal(access(dir, F_OK), -1);

	free(dir);
}

static void test_read_open_uninitialised_not_found(void **state)
{
	jit_store *store = NULL;
	char *dir = test_mkdtemp();
	jit_error error;

	(void)state;
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_NOT_FOUND);
	assert_null(store);
	assert_non_null(strstr(error.message, "jitctl init"));
	assert_false(file_exists(dir, "data.mdb"));
	assert_false(file_exists(dir, "lock.mdb"));

	/* An empty data file is not a store either. */
	free(test_write_file(dir, "data.mdb", "", 0600));
	free(test_write_file(dir, "lock.mdb", "", 0600));
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_NOT_FOUND);

	test_rmtree(dir);
	free(dir);
}

static void test_truncated_data_file_fails(void **state)
{
	jit_store *store;
	char *dir = make_store();
	char path[PATH_MAX];
	jit_error error;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	assert_int_equal(put(store, 1, "alice", 100, &error), JIT_OK);
	jit_store_close(store);

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(truncate(path, 100), 0);

	store = NULL;
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_STORE);
	assert_null(store);
	assert_non_null(strstr(error.message, dir));
	assert_int_equal(jit_store_open(dir, JIT_STORE_WRITE, &store, &error),
			 JIT_ERR_STORE);
	assert_null(store);

	test_rmtree(dir);
	free(dir);
}

static void test_unsafe_folder_rejected(void **state)
{
	jit_store *store = NULL;
	char *dir = make_store();
	char path[PATH_MAX];
	jit_error error;

	(void)state;
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "0777"));
	assert_int_equal(jit_store_open(dir, JIT_STORE_WRITE, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(chmod(dir, 0720), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);

	assert_int_equal(chmod(dir, 0700), 0);
	free(test_write_file(dir, "plain", "", 0600));
	snprintf(path, sizeof(path), "%s/plain", dir);
	assert_int_equal(jit_store_open(path, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(jit_store_create(path, &error), JIT_ERR_UNSAFE_FILE);

	assert_int_equal(chown(dir, 65534, 0), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(jit_store_create(dir, &error), JIT_ERR_UNSAFE_FILE);
	assert_null(store);

	test_rmtree(dir);
	free(dir);
}

static void test_unsafe_store_file_rejected(void **state)
{
	jit_store *store = NULL;
	char *dir = make_store();
	char path[PATH_MAX], target[PATH_MAX];
	jit_error error;

	(void)state;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	/* A write open resets the mode it owns. */
	store = open_store(dir, JIT_STORE_WRITE);
	jit_store_close(store);
	assert_int_equal(file_mode(dir, "data.mdb"), 0600);

	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(jit_store_open(dir, JIT_STORE_WRITE, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	store = NULL;
	assert_int_equal(jit_store_open(dir, JIT_STORE_READ, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_int_equal(jit_store_open(dir, JIT_STORE_WRITE, &store, &error),
			 JIT_ERR_UNSAFE_FILE);
	assert_null(store);

	test_rmtree(dir);
	free(dir);
}

static int read_as_nobody(const char *dir)
{
	jit_store *store = NULL;
	jit_error error;
	jit_err r;

	if (setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0)
		return 10;
	r = jit_store_open(dir, JIT_STORE_READ, &store, &error);
	if (store != NULL)
		return 11;
	if (r != JIT_ERR_PERMISSION)
		return 12;
	return strstr(error.message, "as root") != NULL ? 0 : 13;
}

static void test_unprivileged_read_needs_root(void **state)
{
	char *dir = make_store();
	struct stat before, after;
	char path[PATH_MAX];
	int status = 0;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	assert_int_equal(stat(path, &before), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read_as_nobody(dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_mtime, before.st_mtime);
	assert_int_equal(after.st_mode, before.st_mode);

	test_rmtree(dir);
	free(dir);
}

/* Runs in a forked child that inherited the parent's open handle. */
static int read_in_child(const char *dir, jit_store *inherited)
{
	jit_stored_grant *grants = NULL;
	jit_store *store = NULL;
	jit_error error;
	size_t count = 0;

	if (jit_store_load_user(inherited, "alice", 10, &grants, &count,
				&error) != JIT_ERR_STORE)
		return 20;
	jit_store_close(inherited);

	for (int i = 0; i < 200; i++) {
		if (jit_store_open(dir, JIT_STORE_READ, &store, &error) != JIT_OK)
			return 21;
		if (jit_store_load_user(store, "alice", 10, &grants, &count,
					&error) != JIT_OK || count != 3)
			return 22;
		jit_stored_grants_free(grants, count);
		jit_store_close(store);
	}
	return 0;
}

static void test_fork_child_reads_own_store(void **state)
{
	jit_store *store;
	char *dir = make_store();
	jit_error error;
	int status = 0;
	pid_t pid;

	(void)state;
	store = open_store(dir, JIT_STORE_WRITE);
	for (unsigned n = 0; n < 3; n++)
		assert_int_equal(put(store, n, "alice", 1000, &error), JIT_OK);
	jit_store_close(store);

	store = open_store(dir, JIT_STORE_READ);
	assert_int_equal(user_grant_count(store, "alice"), 3);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read_in_child(dir, store));

	for (int i = 0; i < 200; i++)
		assert_int_equal(user_grant_count(store, "alice"), 3);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The child's close of its inherited copy left this handle working. */
	assert_int_equal(user_grant_count(store, "alice"), 3);
	jit_store_close(store);

	test_rmtree(dir);
	free(dir);
}

static void test_open_close_cycles_keep_fds(void **state)
{
	jit_store *store;
	char *dir = make_store();
	size_t before;

	(void)state;
	before = count_fds();
	for (int i = 0; i < MANY; i++) {
		store = open_store(dir, i % 2 ? JIT_STORE_READ : JIT_STORE_WRITE);
		jit_store_close(store);
	}
	assert_int_equal(count_fds(), before);

	test_rmtree(dir);
	free(dir);
}

static void test_network_fs_detected(void **state)
{
	const char *name = "unset";

	(void)state;
	assert_true(jit_store_fs_is_network(NFS_SUPER_MAGIC, &name));
	assert_string_equal(name, "nfs");
	assert_true(jit_store_fs_is_network((long)CIFS_SUPER_MAGIC, &name));
	assert_string_equal(name, "cifs");
	/* The same magic as a sign-extended 32-bit f_type. */
	assert_true(jit_store_fs_is_network((long)(int32_t)0xff534d42, &name));
	assert_true(jit_store_fs_is_network((long)SMB2_SUPER_MAGIC, &name));
	assert_true(jit_store_fs_is_network(SMB_SUPER_MAGIC, &name));
	assert_true(jit_store_fs_is_network(CEPH_SUPER_MAGIC, &name));
	assert_true(jit_store_fs_is_network(AFS_SUPER_MAGIC, &name));
	assert_true(jit_store_fs_is_network(CODA_SUPER_MAGIC, &name));
	assert_true(jit_store_fs_is_network(V9FS_MAGIC, &name));
	assert_string_equal(name, "9p");
	assert_true(jit_store_fs_is_network(NCP_SUPER_MAGIC, NULL));

	assert_false(jit_store_fs_is_network(EXT4_SUPER_MAGIC, &name));
	assert_null(name);
	assert_false(jit_store_fs_is_network(TMPFS_MAGIC, &name));
	assert_false(jit_store_fs_is_network(XFS_SUPER_MAGIC, &name));
	assert_false(jit_store_fs_is_network(BTRFS_SUPER_MAGIC, &name));
	assert_false(jit_store_fs_is_network(FUSE_SUPER_MAGIC, &name));
	assert_false(jit_store_fs_is_network(OVERLAYFS_SUPER_MAGIC, &name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_then_open_both_modes),
		cmocka_unit_test(test_put_then_get),
		cmocka_unit_test(test_put_same_id_twice_exists),
		cmocka_unit_test(test_put_rejects_bad_input),
		cmocka_unit_test(test_read_handle_rejects_writes),
		cmocka_unit_test(test_load_user_returns_own_grants),
		cmocka_unit_test(test_load_user_over_limit_too_large),
		cmocka_unit_test(test_visit_user_stops_early),
		cmocka_unit_test(test_load_all_lists_every_grant),
		cmocka_unit_test(test_revoke_then_load_shows_revoked),
		cmocka_unit_test(test_revoke_twice_exists),
		cmocka_unit_test(test_revoke_unknown_not_found),
		cmocka_unit_test(test_reap_removes_only_expired),
		cmocka_unit_test(test_reap_in_batches_of_three),
		cmocka_unit_test(test_reap_keeps_64bit_times),
		cmocka_unit_test(test_reap_concurrent_counts_once),
		cmocka_unit_test(test_full_store_then_reap_frees_space),
		cmocka_unit_test(test_file_modes_ignore_umask),
		cmocka_unit_test(test_store_fds_close_on_exec),
		cmocka_unit_test(test_read_open_missing_folder_fails),
		cmocka_unit_test(test_read_open_uninitialised_not_found),
		cmocka_unit_test(test_truncated_data_file_fails),
		cmocka_unit_test(test_unsafe_folder_rejected),
		cmocka_unit_test(test_unsafe_store_file_rejected),
		cmocka_unit_test(test_unprivileged_read_needs_root),
		cmocka_unit_test(test_fork_child_reads_own_store),
		cmocka_unit_test(test_open_close_cycles_keep_fds),
		cmocka_unit_test(test_network_fs_detected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
