/* Tests of session records in the store, of judging them, and of the
 * sweep that ends sessions by signals. They run as root, because the store
 * must be owned by root; the sweep tests end process trees they fork. */
#include "testlib.h"

#include <errno.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOW_MS 1796415300000LL

typedef struct fixture {
	char *dir;
	jit_config *config;
} fixture;

typedef struct report_log {
	size_t forgotten;
	size_t ended;
	size_t warned;
	size_t failed;
	size_t told;
	jit_reason last_reason;
	char last_method[16];
} report_log;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	jit_error error;
	char *text = NULL;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	assert_int_equal(jit_store_create(f->dir, &error), JIT_OK);
	assert_true(asprintf(&text, "[jit]\nstore = %s\nhostname = test\n",
			     f->dir) > 0);
	assert_int_equal(jit_config_parse("test.conf", text, &f->config,
					  &error), JIT_OK);
	free(text);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	jit_config_free(f->config);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static jit_store *open_store(const fixture *f, jit_store_mode mode)
{
	jit_store *store = NULL;
	jit_error error;

	if (jit_store_open(f->dir, mode, &store, &error) != JIT_OK)
		fail_msg("opening %s: %s", f->dir, error.message);
	return store;
}

static void make_grant_id(uint8_t id[JIT_GRANT_ID_LEN], unsigned n)
{
	memset(id, 0x5a, JIT_GRANT_ID_LEN);
	id[0] = (uint8_t)n;
}

/* A record with every string set; strings are borrowed, not owned. */
static jit_session_record make_record(unsigned grant, uint32_t pid,
				      uint64_t start, int64_t not_after)
{
	jit_session_record record = {
		.opened_at_ms = NOW_MS - 5000,
		.not_after = not_after,
		.user = "carol",
		.service = "sshd",
		.rhost = "192.0.2.7",
		.tty = "ssh",
		.logind_session = "",
		.cgroup = "/",
	};

	make_grant_id(record.key.grant_id, grant);
	record.key.leader_pid = pid;
	record.key.leader_start = start;
	return record;
}

static void put_record(const fixture *f, const jit_session_record *record)
{
	jit_store *store = open_store(f, JIT_STORE_WRITE);
	jit_error error;

	if (jit_store_put_session(store, record, &error) != JIT_OK)
		fail_msg("recording a session: %s", error.message);
	jit_store_close(store);
}

/* Stores a grant blob so that records of grant n count as stored. */
static void put_grant(const fixture *f, unsigned n, int64_t not_after)
{
	jit_store *store = open_store(f, JIT_STORE_WRITE);
	uint8_t id[JIT_GRANT_ID_LEN], blob[1] = { 0 };
	jit_error error;

	make_grant_id(id, n);
	assert_int_equal(jit_store_put_grant(store, id, "carol", not_after,
					     blob, sizeof(blob), &error), JIT_OK);
	jit_store_close(store);
}

static size_t load(const fixture *f, const uint8_t *grant_id,
		   jit_session_record **records)
{
	jit_store *store = open_store(f, JIT_STORE_READ);
	jit_error error;
	size_t count = 0;

	if (jit_store_load_sessions(store, grant_id, 100, records, &count,
				    &error) != JIT_OK)
		fail_msg("loading sessions: %s", error.message);
	jit_store_close(store);
	return count;
}

static void test_session_record_round_trip(void **state)
{
	fixture *f = *state;
	jit_session_record record = make_record(1, 4242, 987654321, 1796415400);
	jit_session_record *loaded = NULL;

	record.flags = JIT_SESSION_FLAG_WARNED;
	put_record(f, &record);

	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_memory_equal(&loaded[0].key.grant_id, record.key.grant_id,
			    JIT_GRANT_ID_LEN);
	assert_int_equal(loaded[0].key.leader_pid, 4242);
	assert_int_equal(loaded[0].key.leader_start, 987654321);
	assert_int_equal(loaded[0].opened_at_ms, NOW_MS - 5000);
	assert_int_equal(loaded[0].not_after, 1796415400);
	assert_int_equal(loaded[0].flags, JIT_SESSION_FLAG_WARNED);
	assert_string_equal(loaded[0].user, "carol");
	assert_string_equal(loaded[0].service, "sshd");
	assert_string_equal(loaded[0].rhost, "192.0.2.7");
	assert_string_equal(loaded[0].tty, "ssh");
	assert_string_equal(loaded[0].logind_session, "");
	assert_string_equal(loaded[0].cgroup, "/");
	assert_false(loaded[0].damaged);
	assert_false(loaded[0].grant_stored);
	assert_false(loaded[0].grant_revoked);
	jit_session_records_free(loaded, 1);
}

static void test_session_delete_twice_not_found(void **state)
{
	fixture *f = *state;
	jit_session_record record = make_record(1, 10, 20, 1796415400);
	jit_store *store;
	jit_error error;

	put_record(f, &record);
	store = open_store(f, JIT_STORE_WRITE);
	assert_int_equal(jit_store_delete_session(store, &record.key, &error), JIT_OK);
	assert_int_equal(jit_store_delete_session(store, &record.key, &error),
			 JIT_ERR_NOT_FOUND);
	assert_int_equal(jit_store_set_session_flags(store, &record.key,
						     JIT_SESSION_FLAG_WARNED,
						     &error), JIT_ERR_NOT_FOUND);
	jit_store_close(store);
}

static void test_session_flags_updated_in_place(void **state)
{
	fixture *f = *state;
	jit_session_record record = make_record(1, 10, 20, 1796415400);
	jit_session_record *loaded = NULL;
	jit_store *store;
	jit_error error;

	put_record(f, &record);
	store = open_store(f, JIT_STORE_WRITE);
	assert_int_equal(jit_store_set_session_flags(store, &record.key,
						     JIT_SESSION_FLAG_WARNED,
						     &error), JIT_OK);
	jit_store_close(store);

	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_int_equal(loaded[0].flags, JIT_SESSION_FLAG_WARNED);
	assert_string_equal(loaded[0].user, "carol");
	jit_session_records_free(loaded, 1);
}

static void test_session_load_by_grant(void **state)
{
	fixture *f = *state;
	jit_session_record a = make_record(1, 10, 1, 1796415400);
	jit_session_record b = make_record(2, 11, 1, 1796415400);
	jit_session_record c = make_record(2, 12, 1, 1796415400);
	jit_session_record d = make_record(3, 13, 1, 1796415400);
	jit_session_record *loaded = NULL;

	put_record(f, &a);
	put_record(f, &b);
	put_record(f, &c);
	put_record(f, &d);

	assert_int_equal(load(f, b.key.grant_id, &loaded), 2);
	assert_int_equal(loaded[0].key.leader_pid, 11);
	assert_int_equal(loaded[1].key.leader_pid, 12);
	jit_session_records_free(loaded, 2);

	assert_int_equal(load(f, d.key.grant_id, &loaded), 1);
	jit_session_records_free(loaded, 1);
	assert_int_equal(load(f, NULL, &loaded), 4);
	jit_session_records_free(loaded, 4);
}

static void test_session_load_reports_grant_state(void **state)
{
	fixture *f = *state;
	jit_session_record record = make_record(1, 10, 1, 1796415400);
	jit_revocation revocation = { .revoked_at = 1, .actor = "root",
				      .reason = "test" };
	jit_session_record *loaded = NULL;
	jit_store *store;
	jit_error error;

	put_record(f, &record);
	put_grant(f, 1, 1796415400);
	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_true(loaded[0].grant_stored);
	assert_false(loaded[0].grant_revoked);
	jit_session_records_free(loaded, 1);

	store = open_store(f, JIT_STORE_WRITE);
	assert_int_equal(jit_store_revoke(store, record.key.grant_id,
					  &revocation, &error), JIT_OK);
	jit_store_close(store);
	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_true(loaded[0].grant_revoked);
	jit_session_records_free(loaded, 1);
}

/* Overwrites the value of the first session record with raw bytes. */
static void damage_record(const fixture *f, const void *bytes, size_t len)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cursor = NULL;
	MDB_dbi dbi;
	MDB_val key, value, data = { len, (void *)bytes };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_set_mapsize(env, JIT_STORE_MAP_SIZE), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "sessions", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cursor), 0);
	assert_int_equal(mdb_cursor_get(cursor, &key, &value, MDB_FIRST), 0);
	assert_int_equal(mdb_cursor_put(cursor, &key, &data, MDB_CURRENT), 0);
	mdb_cursor_close(cursor);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_damaged_record_kept_with_key(void **state)
{
	fixture *f = *state;
	jit_session_record record = make_record(7, 4242, 99, 1796415400);
	jit_session_record *loaded = NULL;
	static const uint8_t garbage[] = { 1, 2, 3 };
	jit_reason reason;

	put_record(f, &record);
	damage_record(f, garbage, sizeof(garbage));

	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_true(loaded[0].damaged);
	assert_int_equal(loaded[0].key.leader_pid, 4242);
	assert_int_equal(loaded[0].key.leader_start, 99);
	assert_null(loaded[0].user);

	/* A session that cannot be tied to a grant any more is over. */
	assert_int_equal(jit_session_judge(&loaded[0], true, NOW_MS, 0, &reason),
			 JIT_SESSION_OVER);
	assert_int_equal(reason, JIT_REASON_MALFORMED);
	jit_session_records_free(loaded, 1);
}

static void test_store_without_sessions_reads_empty(void **state)
{
	fixture *f = *state;
	jit_session_record *loaded = NULL;

	/* jit_store_create made no sessions database: a store from before
	 * sessions existed reads as having none. */
	assert_int_equal(load(f, NULL, &loaded), 0);
	assert_null(loaded);
}

static void test_proc_stat_parse(void **state)
{
	jit_proc_stat stat;
	jit_error error;

	(void)state;
	assert_int_equal(jit_proc_stat_parse(
		"4242 (sshd: carol) [priv]) S 1 4242 4242 34816 4242 4194560 "
		"1 2 3 4 5 6 7 8 20 0 1 0 987654321 1000 200 18446744073709551615\n",
		&stat, &error), JIT_OK);
	assert_int_equal(stat.pid, 4242);
	assert_int_equal(stat.state, 'S');
	assert_int_equal(stat.ppid, 1);
	assert_int_equal(stat.pgrp, 4242);
	assert_int_equal(stat.sid, 4242);
	assert_int_equal(stat.tty_nr, 34816);
	assert_int_equal(stat.start, 987654321);

	assert_int_equal(jit_proc_stat_parse("4242 (x) S 1 2 3", &stat, &error),
			 JIT_ERR_MALFORMED);
	assert_int_equal(jit_proc_stat_parse("nonsense", &stat, &error),
			 JIT_ERR_MALFORMED);
	assert_int_equal(jit_proc_stat_parse("", &stat, &error),
			 JIT_ERR_MALFORMED);
}

static void test_proc_stat_read_self(void **state)
{
	jit_proc_stat stat;
	jit_session_key key = { 0 };

	(void)state;
	assert_int_equal(jit_proc_stat_read(getpid(), &stat, NULL), JIT_OK);
	assert_int_equal(stat.pid, getpid());
	assert_int_equal(stat.ppid, getppid());
	assert_true(stat.start > 0);

	key.leader_pid = (uint32_t)getpid();
	key.leader_start = stat.start;
	assert_true(jit_session_leader_alive(&key));
	/* The same pid with another start time is another process. */
	key.leader_start = stat.start + 1;
	assert_false(jit_session_leader_alive(&key));
}

static void test_judge_orders_reasons(void **state)
{
	jit_session_record record = make_record(1, 10, 1, NOW_MS / 1000 + 600);
	jit_reason reason;

	(void)state;
	record.grant_stored = true;
	assert_int_equal(jit_session_judge(&record, false, NOW_MS, 300, &reason),
			 JIT_SESSION_GONE);
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_LIVE);

	/* Under five minutes left: a warning, once. */
	record.not_after = NOW_MS / 1000 + 299;
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_WARN);
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 0, &reason),
			 JIT_SESSION_LIVE);
	record.flags = JIT_SESSION_FLAG_WARNED;
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_LIVE);

	/* not_after is strict: at that instant the grant is over. */
	record.not_after = NOW_MS / 1000;
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_OVER);
	assert_int_equal(reason, JIT_REASON_EXPIRED);

	record.grant_revoked = true;
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_OVER);
	assert_int_equal(reason, JIT_REASON_REVOKED);

	record = make_record(1, 10, 1, NOW_MS / 1000 + 600);
	record.grant_stored = false;
	assert_int_equal(jit_session_judge(&record, true, NOW_MS, 300, &reason),
			 JIT_SESSION_OVER);
	assert_int_equal(reason, JIT_REASON_NO_GRANT);
}

static void log_report(const jit_session_report *report, void *data)
{
	report_log *log = data;

	switch (report->action) {
	case JIT_SESSION_FORGOTTEN:
		log->forgotten++;
		break;
	case JIT_SESSION_ENDED:
		log->ended++;
		log->last_reason = report->reason;
		snprintf(log->last_method, sizeof(log->last_method), "%s",
			 report->result->method);
		break;
	case JIT_SESSION_WARNED:
		log->warned++;
		log->told += report->told;
		break;
	case JIT_SESSION_FAILED:
		log->failed++;
		break;
	}
}

/* Forks a session leader in its own kernel session with two children: one
 * in the foreground, and one in a kernel session of its own, like a user's
 * shell under sshd. SIGHUP is ignored by one child, so only SIGKILL ends
 * it. Returns the leader's pid; the children's pids go through a pipe. */
static pid_t fork_session_tree(pid_t children[2])
{
	int fds[2];
	pid_t leader;

	assert_int_equal(pipe(fds), 0);
	leader = fork();
	assert_true(leader >= 0);
	if (leader == 0) {
		pid_t kids[2];

		close(fds[0]);
		setsid();
		kids[0] = fork();
		if (kids[0] == 0) {
			signal(SIGHUP, SIG_IGN);
			pause();
			_exit(0);
		}
		kids[1] = fork();
		if (kids[1] == 0) {
			setsid();
			pause();
			_exit(0);
		}
		if (write(fds[1], kids, sizeof(kids)) != (ssize_t)sizeof(kids))
			_exit(1);
		close(fds[1]);
		for (;;)
			pause();
	}

	close(fds[1]);
	assert_int_equal(read(fds[0], children, 2 * sizeof(pid_t)),
			 (ssize_t)(2 * sizeof(pid_t)));
	close(fds[0]);
	return leader;
}

/* True when pid is gone or a zombie waiting for this process. */
static bool process_ended(pid_t pid)
{
	jit_proc_stat stat;

	return jit_proc_stat_read(pid, &stat, NULL) != JIT_OK ||
	       stat.state == 'Z';
}

static jit_session_record record_for(pid_t leader, unsigned grant,
				     int64_t not_after)
{
	jit_proc_stat stat;

	assert_int_equal(jit_proc_stat_read(leader, &stat, NULL), JIT_OK);
	return make_record(grant, (uint32_t)leader, stat.start, not_after);
}

static void sweep_at(const fixture *f, int64_t now_ms, report_log *log,
		     jit_session_sweep *sweep)
{
	jit_error error;

	memset(sweep, 0, sizeof(*sweep));
	sweep->now_ms = now_ms;
	sweep->grace_ms = 300;
	sweep->warn_seconds = JIT_SESSION_WARN_SECONDS;
	sweep->report = log_report;
	sweep->context = log;
	if (jit_sessions_sweep(f->config, sweep, &error) != JIT_OK)
		fail_msg("sweep failed: %s", error.message);
}

static void test_sweep_ends_expired_session_tree(void **state)
{
	fixture *f = *state;
	pid_t children[2], leader = fork_session_tree(children);
	int64_t now_ms = jit_clock_now_ms();
	jit_session_record record = record_for(leader, 1, now_ms / 1000 - 1);
	jit_session_record *loaded = NULL;
	jit_session_sweep sweep;
	report_log log = { 0 };
	int status;

	put_grant(f, 1, now_ms / 1000 - 1);
	put_record(f, &record);
	sweep_at(f, now_ms, &log, &sweep);

	assert_int_equal(log.ended, 1);
	assert_int_equal(log.failed, 0);
	assert_int_equal(log.last_reason, JIT_REASON_EXPIRED);
	assert_string_equal(log.last_method, "signals");
	assert_int_equal(sweep.live, 0);
	assert_int_equal(waitpid(leader, &status, 0), leader);
	assert_true(WIFSIGNALED(status));
	assert_true(process_ended(children[0]));
	assert_true(process_ended(children[1]));
	assert_int_equal(load(f, NULL, &loaded), 0);
}

static void test_sweep_keeps_live_and_warns_once(void **state)
{
	fixture *f = *state;
	pid_t children[2], leader = fork_session_tree(children);
	int64_t now_ms = jit_clock_now_ms();
	int64_t not_after = now_ms / 1000 + 120;
	jit_session_record record = record_for(leader, 1, not_after);
	jit_session_sweep sweep;
	report_log log = { 0 };

	put_grant(f, 1, not_after);
	put_record(f, &record);

	sweep_at(f, now_ms, &log, &sweep);
	assert_int_equal(log.warned, 1);
	assert_int_equal(log.told, 0);      /* no terminal to tell */
	assert_int_equal(log.ended, 0);
	assert_int_equal(sweep.live, 1);
	assert_int_equal(sweep.next_due_ms, not_after * 1000);

	sweep_at(f, now_ms + 1000, &log, &sweep);
	assert_int_equal(log.warned, 1);
	assert_int_equal(sweep.live, 1);
	assert_false(process_ended(leader));

	/* At the grant's end the session ends. */
	sweep_at(f, not_after * 1000, &log, &sweep);
	assert_int_equal(log.ended, 1);
	assert_int_equal(waitpid(leader, NULL, 0), leader);
	assert_true(process_ended(children[0]));
	assert_true(process_ended(children[1]));
}

/* A session that has no terminal yet, right after it opened, is warned at
 * a later sweep; once it is old enough it is warned without one. */
static void test_sweep_defers_warning_without_terminal(void **state)
{
	fixture *f = *state;
	pid_t children[2], leader = fork_session_tree(children);
	int64_t now_ms = jit_clock_now_ms();
	int64_t not_after = now_ms / 1000 + 120;
	jit_session_record record = record_for(leader, 1, not_after);
	jit_session_record *loaded = NULL;
	jit_session_sweep sweep;
	report_log log = { 0 };

	record.opened_at_ms = now_ms;
	put_grant(f, 1, not_after);
	put_record(f, &record);

	sweep_at(f, now_ms, &log, &sweep);
	assert_int_equal(log.warned, 0);
	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_int_equal(loaded[0].flags, 0);
	jit_session_records_free(loaded, 1);

	sweep_at(f, now_ms + 11000, &log, &sweep);
	assert_int_equal(log.warned, 1);
	assert_int_equal(log.told, 0);
	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_int_equal(loaded[0].flags, JIT_SESSION_FLAG_WARNED);
	jit_session_records_free(loaded, 1);

	sweep_at(f, not_after * 1000, &log, &sweep);
	assert_int_equal(log.ended, 1);
	assert_int_equal(waitpid(leader, NULL, 0), leader);
}

static void test_sweep_forgets_exited_leader(void **state)
{
	fixture *f = *state;
	pid_t child = fork();
	jit_session_record record;
	jit_session_record *loaded = NULL;
	jit_session_sweep sweep;
	report_log log = { 0 };

	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	record = record_for(child, 1, jit_clock_now_ms() / 1000 - 10);
	put_record(f, &record);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);

	sweep_at(f, jit_clock_now_ms(), &log, &sweep);
	assert_int_equal(log.forgotten, 1);
	assert_int_equal(log.ended, 0);
	assert_int_equal(load(f, NULL, &loaded), 0);
}

static void test_sweep_only_named_grant(void **state)
{
	fixture *f = *state;
	pid_t kids_a[2], kids_b[2];
	pid_t a = fork_session_tree(kids_a), b = fork_session_tree(kids_b);
	int64_t now_ms = jit_clock_now_ms();
	jit_session_record ra = record_for(a, 1, now_ms / 1000 - 1);
	jit_session_record rb = record_for(b, 2, now_ms / 1000 - 1);
	jit_session_record *loaded = NULL;
	jit_session_sweep sweep;
	report_log log = { 0 };
	jit_error error;

	put_record(f, &ra);
	put_record(f, &rb);

	memset(&sweep, 0, sizeof(sweep));
	sweep.grant_id = ra.key.grant_id;
	sweep.now_ms = now_ms;
	sweep.grace_ms = 300;
	sweep.report = log_report;
	sweep.context = &log;
	assert_int_equal(jit_sessions_sweep(f->config, &sweep, &error), JIT_OK);
	assert_int_equal(log.ended, 1);
	assert_int_equal(waitpid(a, NULL, 0), a);
	assert_false(process_ended(b));

	assert_int_equal(load(f, NULL, &loaded), 1);
	assert_int_equal(loaded[0].key.leader_pid, (uint32_t)b);
	jit_session_records_free(loaded, 1);

	sweep_at(f, now_ms, &log, &sweep);
	assert_int_equal(log.ended, 2);
	assert_int_equal(waitpid(b, NULL, 0), b);
}

/* Two sweeps at once over the same expired session: exactly one of them
 * ends and reports it. Each sweeper exits with the number it ended. */
static void test_concurrent_sweeps_end_once(void **state)
{
	fixture *f = *state;
	pid_t children[2], leader = fork_session_tree(children);
	int64_t now_ms = jit_clock_now_ms();
	jit_session_record record = record_for(leader, 1, now_ms / 1000 - 1);
	pid_t sweepers[2];
	int total = 0;

	put_record(f, &record);
	for (int i = 0; i < 2; i++) {
		sweepers[i] = fork();
		assert_true(sweepers[i] >= 0);
		if (sweepers[i] == 0) {
			jit_session_sweep sweep = { .now_ms = now_ms,
						    .grace_ms = 300 };
			report_log log = { 0 };

			sweep.report = log_report;
			sweep.context = &log;
			if (jit_sessions_sweep(f->config, &sweep, NULL) != JIT_OK)
				_exit(100);
			_exit((int)log.ended);
		}
	}

	for (int i = 0; i < 2; i++) {
		int status;

		assert_int_equal(waitpid(sweepers[i], &status, 0), sweepers[i]);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) <= 1);
		total += WEXITSTATUS(status);
	}
	assert_int_equal(total, 1);
	assert_int_equal(waitpid(leader, NULL, 0), leader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_record_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_delete_twice_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_flags_updated_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_load_by_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_load_reports_grant_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record_kept_with_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_without_sessions_reads_empty, setup, teardown),
		cmocka_unit_test(test_proc_stat_parse),
		cmocka_unit_test(test_proc_stat_read_self),
		cmocka_unit_test(test_judge_orders_reasons),
		cmocka_unit_test_setup_teardown(test_sweep_ends_expired_session_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_keeps_live_and_warns_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_defers_warning_without_terminal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_forgets_exited_leader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_only_named_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_sweeps_end_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
