/* Decision tests: every deny reason, the not-before leeway, the strict
 * not-after, scope matching, and jit_check over a real store. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1800000000LL                 /* a fixed "now", in seconds */
#define NOW_MS (NOW * 1000)

struct fixture {
	char *dir;
	jit_issuer_key *key;
	jit_issuer_key *other_key;
	jit_keyring *keys;
	jit_config *config;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *path, *other_path, *text = NULL;
	uint8_t public_key[JIT_PUBLIC_KEY_LEN];

	assert_non_null(f);
	f->dir = test_mkdtemp();

	assert_true(asprintf(&path, "%s/issuer.key", f->dir) > 0);
	assert_true(asprintf(&other_path, "%s/other.key", f->dir) > 0);
	assert_int_equal(jit_issuer_key_generate(path, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_generate(other_path, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(path, &f->key, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(other_path, &f->other_key, NULL), JIT_OK);

	assert_int_equal(jit_keyring_new(&f->keys, NULL), JIT_OK);
	jit_issuer_key_public(f->key, public_key);
	assert_int_equal(jit_keyring_add(f->keys, public_key, NULL), JIT_OK);

	assert_true(asprintf(&text,
		"[jit]\n"
		"store = %s/store\n"
		"issuer_key = %s\n"
		"trusted_keys = %s/trusted.d\n"
		"hostname = web1\n"
		"clock_skew = 60s\n"
		"[sudo]\n"
		"secure_path = /usr/sbin:/usr/bin:/sbin:/bin\n",
		f->dir, path, f->dir) > 0);
	assert_int_equal(jit_config_parse("test.conf", text, &f->config, NULL), JIT_OK);

	free(text);
	free(path);
	free(other_path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	jit_config_free(f->config);
	jit_keyring_free(f->keys);
	jit_issuer_key_free(f->key);
	jit_issuer_key_free(f->other_key);
	test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* A grant for alice on web1, valid from NOW-600 to NOW+600, running
 * /usr/bin/systemctl as root or postgres, and logging in through sshd. */
static jit_grant *base_grant(void)
{
	jit_grant *grant = calloc(1, sizeof(*grant));

	assert_non_null(grant);
	jit_grant_new_id(grant);
	grant->not_before = NOW - 600;
	grant->not_after = NOW + 600;
	grant->issued_at = NOW - 600;
	grant->user = strdup("alice");
	grant->role = strdup("ops");
	grant->request_id = strdup("");
	grant->requester = strdup("root");
	grant->reason = strdup("INC-1 test");
	assert_int_equal(jit_strlist_append(&grant->hosts, "web*"), JIT_OK);
	assert_int_equal(jit_strlist_append(&grant->approvers, "root"), JIT_OK);
	assert_int_equal(jit_strlist_append(&grant->runas_users, "root"), JIT_OK);
	assert_int_equal(jit_strlist_append(&grant->runas_users, "postgres"), JIT_OK);
	assert_int_equal(jit_strlist_append(&grant->services, "sshd"), JIT_OK);
	assert_int_equal(jit_grant_add_command(grant, "/usr/bin/systemctl", NULL, NULL),
			 JIT_OK);
	return grant;
}

static void sign_into(const jit_grant *grant, const jit_issuer_key *key,
		      jit_stored_grant *stored)
{
	memset(stored, 0, sizeof(*stored));
	memcpy(stored->id, grant->id, JIT_GRANT_ID_LEN);
	assert_int_equal(jit_grant_sign(grant, key, &stored->blob,
					&stored->blob_len, NULL), JIT_OK);
}

static jit_access command_access(const char *user, const char *command)
{
	jit_access access = {
		.kind = JIT_ACCESS_COMMAND,
		.user = user,
		.command = command,
	};
	return access;
}

static jit_reason decide_one(struct fixture *f, const jit_grant *grant,
			     const jit_access *access, int64_t now_ms)
{
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->key, &stored);
	jit_decide(f->config, f->keys, &stored, 1, access, now_ms, &decision);
	free(stored.blob);
	return decision.reason;
}

static void decide_allows_granted_command(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->key, &stored);
	jit_decide(f->config, f->keys, &stored, 1, &access, NOW_MS, &decision);

	assert_int_equal(decision.reason, JIT_REASON_ALLOW);
	assert_true(jit_decision_allowed(&decision));
	assert_true(decision.has_grant);
	assert_memory_equal(decision.grant_id, grant->id, JIT_GRANT_ID_LEN);
	assert_int_equal(decision.not_after, NOW + 600);
	assert_string_equal(decision.role, "ops");

	free(stored.blob);
	jit_grant_free(grant);
}

static void decide_without_grants_is_no_grant(void **state)
{
	struct fixture *f = *state;
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_decision decision;

	jit_decide(f->config, f->keys, NULL, 0, &access, NOW_MS, &decision);

	assert_int_equal(decision.reason, JIT_REASON_NO_GRANT);
	assert_false(decision.has_grant);
	assert_non_null(strstr(decision.detail, "alice"));
}

static void decide_not_after_is_strict(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access login = { .kind = JIT_ACCESS_SERVICE, .user = "alice",
			     .service = "sshd" };

	/* The leeway never extends not_after. */
	assert_int_equal(decide_one(f, grant, &login, (NOW + 600) * 1000),
			 JIT_REASON_EXPIRED);
	assert_int_equal(decide_one(f, grant, &login, (NOW + 601) * 1000),
			 JIT_REASON_EXPIRED);
	assert_int_equal(decide_one(f, grant, &login, (NOW + 600) * 1000 - 1),
			 JIT_REASON_ALLOW);
	jit_grant_free(grant);
}

static void decide_command_needs_one_second_left(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");

	/* 0.4 s left would become sudo's timeout=0, which means no limit. */
	assert_int_equal(decide_one(f, grant, &access, (NOW + 600) * 1000 - 400),
			 JIT_REASON_EXPIRED);
	assert_int_equal(decide_one(f, grant, &access, (NOW + 600) * 1000 - 999),
			 JIT_REASON_EXPIRED);
	assert_int_equal(decide_one(f, grant, &access, (NOW + 600) * 1000 - 1000),
			 JIT_REASON_ALLOW);
	jit_grant_free(grant);
}

/* The detail separates a grant that ended from one with under a second
 * left. */
static void decide_expired_detail_names_cause(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->key, &stored);
	jit_decide(f->config, f->keys, &stored, 1, &access,
		   (NOW + 600) * 1000 - 400, &decision);
	assert_int_equal(decision.reason, JIT_REASON_EXPIRED);
	assert_non_null(strstr(decision.detail, "less than a second from now"));

	jit_decide(f->config, f->keys, &stored, 1, &access,
		   (NOW + 3600) * 1000, &decision);
	assert_int_equal(decision.reason, JIT_REASON_EXPIRED);
	assert_non_null(strstr(decision.detail, " ended at "));
	assert_null(strstr(decision.detail, "second"));

	free(stored.blob);
	jit_grant_free(grant);
}

static void decide_leeway_on_not_before_only(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");

	/* An issuer 45 s ahead of this host: inside the 60 s leeway. */
	grant->not_before = NOW + 45;
	grant->issued_at = NOW + 45;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);

	grant->not_before = NOW + 60;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);

	grant->not_before = NOW + 61;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS),
			 JIT_REASON_NOT_YET_VALID);
	jit_grant_free(grant);
}

static void decide_revoked_grant_denied(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->key, &stored);
	stored.revoked = true;
	jit_decide(f->config, f->keys, &stored, 1, &access, NOW_MS, &decision);

	assert_int_equal(decision.reason, JIT_REASON_REVOKED);
	assert_non_null(strstr(decision.detail, "revoked"));

	free(stored.blob);
	jit_grant_free(grant);
}

static void decide_host_binding(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");

	access.host = "db1";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_WRONG_HOST);

	access.host = "web7";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);

	/* Without an explicit host the configured hostname (web1) is used. */
	access.host = NULL;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);
	jit_grant_free(grant);
}

static void decide_user_binding(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("bob", "/usr/bin/systemctl");

	/* A grant of alice's found under bob's index entry is worthless. */
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_WRONG_USER);
	jit_grant_free(grant);
}

static void decide_scope_commands(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/cat");

	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	access.command = "/usr/bin/systemctl";
	access.runas_user = "postgres";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);

	access.runas_user = "mallory";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	access.runas_user = NULL;
	access.runas_group = "shadow";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);
	jit_grant_free(grant);
}

static void decide_exact_arguments(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_strlist args = { 0 };
	char *restart[] = { "restart", "nginx" };
	char *stop[] = { "stop", "nginx" };
	jit_access access = command_access("alice", "/usr/sbin/nginx-ctl");

	assert_int_equal(jit_strlist_append(&args, "restart"), JIT_OK);
	assert_int_equal(jit_strlist_append(&args, "nginx"), JIT_OK);
	assert_int_equal(jit_grant_add_command(grant, "/usr/sbin/nginx-ctl", &args, NULL),
			 JIT_OK);

	access.argc = 2;
	access.argv = restart;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);

	access.argv = stop;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	access.argc = 1;
	access.argv = restart;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	access.argc = 0;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	jit_strlist_clear(&args);
	jit_grant_free(grant);
}

static void decide_shell_needs_all(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", NULL);

	access.shell = true;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	/* A shell named as a command is still only that command. */
	access.shell = false;
	access.command = "/usr/bin/sh";
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	assert_int_equal(jit_grant_add_command(grant, "ALL", NULL, NULL), JIT_OK);
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);
	access.shell = true;
	access.command = NULL;
	assert_int_equal(decide_one(f, grant, &access, NOW_MS), JIT_REASON_ALLOW);
	jit_grant_free(grant);
}

static void decide_services(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access login = { .kind = JIT_ACCESS_SERVICE, .user = "alice",
			     .service = "sshd" };

	assert_int_equal(decide_one(f, grant, &login, NOW_MS), JIT_REASON_ALLOW);
	login.service = "login";
	assert_int_equal(decide_one(f, grant, &login, NOW_MS), JIT_REASON_OUT_OF_SCOPE);

	/* A command grant never opens a login, and the other way round. */
	jit_strlist_clear(&grant->services);
	login.service = "sshd";
	assert_int_equal(decide_one(f, grant, &login, NOW_MS), JIT_REASON_OUT_OF_SCOPE);
	jit_grant_free(grant);
}

static void decide_unknown_key(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->other_key, &stored);
	jit_decide(f->config, f->keys, &stored, 1, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_UNKNOWN_KEY);

	free(stored.blob);
	jit_grant_free(grant);
}

static void decide_tampered_and_cut(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_decision decision;

	sign_into(grant, f->key, &stored);

	/* A byte of the signed region near its end (the command list). */
	stored.blob[stored.blob_len - JIT_GRANT_SIGNATURE_LEN - 3] ^= 0x01;
	jit_decide(f->config, f->keys, &stored, 1, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_BAD_SIGNATURE);
	stored.blob[stored.blob_len - JIT_GRANT_SIGNATURE_LEN - 3] ^= 0x01;

	stored.blob_len -= 1;
	jit_decide(f->config, f->keys, &stored, 1, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_MALFORMED);
	assert_non_null(strstr(decision.detail, "invalid"));

	free(stored.blob);
	jit_grant_free(grant);
}

static void decide_valid_grant_wins_over_broken(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored[2];
	jit_decision decision;

	sign_into(grant, f->key, &stored[0]);
	sign_into(grant, f->key, &stored[1]);
	stored[0].blob_len = 10;

	jit_decide(f->config, f->keys, stored, 2, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_ALLOW);

	free(stored[0].blob);
	free(stored[1].blob);
	jit_grant_free(grant);
}

static void decide_reports_closest_reason(void **state)
{
	struct fixture *f = *state;
	jit_grant *active = base_grant();
	jit_grant *expired = base_grant();
	jit_access access = command_access("alice", "/usr/bin/cat");
	jit_stored_grant stored[2];
	jit_decision decision;

	/* An active grant for another command, and an expired one that covered
	 * this command: "expired" tells the user more. */
	assert_int_equal(jit_grant_add_command(expired, "/usr/bin/cat", NULL, NULL), JIT_OK);
	expired->not_after = NOW - 1;
	sign_into(active, f->key, &stored[0]);
	sign_into(expired, f->key, &stored[1]);

	jit_decide(f->config, f->keys, stored, 2, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_EXPIRED);
	assert_memory_equal(decision.grant_id, expired->id, JIT_GRANT_ID_LEN);

	free(stored[0].blob);
	free(stored[1].blob);
	jit_grant_free(active);
	jit_grant_free(expired);
}

static void reason_names_are_fixed(void **state)
{
	(void)state;
	assert_string_equal(jit_reason_name(JIT_REASON_ALLOW), "allow");
	assert_string_equal(jit_reason_name(JIT_REASON_NO_GRANT), "no-grant");
	assert_string_equal(jit_reason_name(JIT_REASON_EXPIRED), "expired");
	assert_string_equal(jit_reason_name(JIT_REASON_NOT_YET_VALID), "not-yet-valid");
	assert_string_equal(jit_reason_name(JIT_REASON_REVOKED), "revoked");
	assert_string_equal(jit_reason_name(JIT_REASON_WRONG_HOST), "wrong-host");
	assert_string_equal(jit_reason_name(JIT_REASON_WRONG_USER), "wrong-user");
	assert_string_equal(jit_reason_name(JIT_REASON_OUT_OF_SCOPE), "out-of-scope");
	assert_string_equal(jit_reason_name(JIT_REASON_BAD_SIGNATURE), "bad-signature");
	assert_string_equal(jit_reason_name(JIT_REASON_UNKNOWN_KEY), "unknown-key");
	assert_string_equal(jit_reason_name(JIT_REASON_MALFORMED), "malformed");
	assert_string_equal(jit_reason_name(JIT_REASON_STORE_ERROR), "store-error");
	assert_string_equal(jit_reason_name(JIT_REASON_CONFIG_ERROR), "config-error");
	assert_string_equal(jit_reason_name(JIT_REASON_AUTH_FAILED), "auth-failed");
	assert_string_equal(jit_reason_name(JIT_REASON_INTERNAL_ERROR), "internal-error");
}

static void resolve_uses_secure_path_only(void **state)
{
	char *path = NULL;
	jit_error error;

	(void)state;
	assert_int_equal(setenv("PATH", "/nonexistent", 1), 0);

	assert_int_equal(jit_command_resolve("sh", "relative:/usr/bin:/bin", &path,
					     &error), JIT_OK);
	assert_string_equal(path, "/usr/bin/sh");
	free(path);

	assert_int_equal(jit_command_resolve("sh", "/nonexistent:/bin", &path,
					     &error), JIT_OK);
	assert_string_equal(path, "/bin/sh");
	free(path);

	assert_int_equal(jit_command_resolve("no-such-command-jit", "/usr/bin",
					     &path, &error), JIT_ERR_NOT_FOUND);
	assert_null(path);
	assert_non_null(strstr(error.message, "no-such-command-jit"));

	assert_int_equal(jit_command_resolve("bin/sh", "/usr", &path, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_command_resolve("", "/usr/bin", &path, &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_command_resolve("/etc/passwd", "/usr/bin", &path,
					     &error), JIT_ERR_NOT_FOUND);
	assert_int_equal(jit_command_resolve("/usr/bin/id", "", &path, &error),
			 JIT_OK);
	assert_string_equal(path, "/usr/bin/id");
	free(path);
}

/* jit_check end to end over a real store: allow, then every failure to
 * load keys or grants is a denial naming the cause. */
static void check_over_store(void **state)
{
	struct fixture *f = *state;
	jit_grant *grant = base_grant();
	jit_access access = command_access("alice", "/usr/bin/systemctl");
	jit_stored_grant stored;
	jit_store *store = NULL;
	jit_decision decision;
	char *trusted;

	assert_true(asprintf(&trusted, "%s/trusted.d", f->dir) > 0);
	assert_int_equal(mkdir(trusted, 0755), 0);

	/* An empty trusted-keys folder is a host misconfiguration. */
	jit_check(f->config, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_CONFIG_ERROR);
	assert_non_null(strstr(decision.detail, trusted));

	assert_int_equal(jit_issuer_key_write_public(f->key, trusted, NULL), JIT_OK);

	/* No store folder yet. */
	jit_check(f->config, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_STORE_ERROR);
	assert_non_null(strstr(decision.detail, "store"));

	assert_int_equal(jit_store_create(f->config->store, NULL), JIT_OK);
	jit_check(f->config, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_NO_GRANT);

	sign_into(grant, f->key, &stored);
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_WRITE, &store, NULL),
			 JIT_OK);
	assert_int_equal(jit_store_put_grant(store, grant->id, "alice", grant->not_after,
					     stored.blob, stored.blob_len, NULL), JIT_OK);
	jit_store_close(store);

	jit_check(f->config, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_ALLOW);

	/* An unsafe trusted key file fails closed. */
	{
		char *pub = NULL;
		char id[JIT_KEY_ID_HEX_LEN + 1];
		uint8_t key_id[JIT_KEY_ID_LEN];

		jit_issuer_key_id(f->key, key_id);
		jit_key_id_format(key_id, id);
		assert_true(asprintf(&pub, "%s/%s.pub", trusted, id) > 0);
		assert_int_equal(chmod(pub, 0666), 0);
		jit_check(f->config, &access, NOW_MS, &decision);
		assert_int_equal(decision.reason, JIT_REASON_CONFIG_ERROR);
		assert_non_null(strstr(decision.detail, id));
		assert_int_equal(chmod(pub, 0644), 0);
		free(pub);
	}

	/* An invalid user name never reaches the store. */
	access.user = "../alice";
	jit_check(f->config, &access, NOW_MS, &decision);
	assert_int_equal(decision.reason, JIT_REASON_NO_GRANT);

	free(stored.blob);
	free(trusted);
	jit_grant_free(grant);
}

static void active_grants_filters(void **state)
{
	struct fixture *f = *state;
	jit_grant *active = base_grant();
	jit_grant *expired = base_grant();
	jit_grant *other_host = base_grant();
	jit_stored_grant stored;
	jit_store *store = NULL;
	jit_grant **grants = NULL;
	size_t count = 0;
	char *trusted;

	assert_true(asprintf(&trusted, "%s/trusted.d", f->dir) > 0);
	assert_int_equal(mkdir(trusted, 0755), 0);
	assert_int_equal(jit_issuer_key_write_public(f->key, trusted, NULL), JIT_OK);
	assert_int_equal(jit_store_create(f->config->store, NULL), JIT_OK);
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_WRITE, &store, NULL),
			 JIT_OK);

	expired->not_after = NOW - 10;
	jit_strlist_clear(&other_host->hosts);
	assert_int_equal(jit_strlist_append(&other_host->hosts, "db1"), JIT_OK);

	jit_grant *all[] = { active, expired, other_host };
	for (size_t i = 0; i < 3; i++) {
		sign_into(all[i], f->key, &stored);
		assert_int_equal(jit_store_put_grant(store, all[i]->id, "alice",
						     all[i]->not_after, stored.blob,
						     stored.blob_len, NULL), JIT_OK);
		free(stored.blob);
	}
	jit_store_close(store);

	assert_int_equal(jit_active_grants(f->config, "alice", NOW_MS, &grants, &count,
					   NULL), JIT_OK);
	assert_int_equal(count, 1);
	assert_memory_equal(grants[0]->id, active->id, JIT_GRANT_ID_LEN);
	jit_grants_free(grants, count);

	assert_int_equal(jit_active_grants(f->config, "bob", NOW_MS, &grants, &count,
					   NULL), JIT_OK);
	assert_int_equal(count, 0);
	jit_grants_free(grants, count);

	free(trusted);
	jit_grant_free(active);
	jit_grant_free(expired);
	jit_grant_free(other_host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(decide_allows_granted_command, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_without_grants_is_no_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_not_after_is_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_expired_detail_names_cause, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_command_needs_one_second_left, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_leeway_on_not_before_only, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_revoked_grant_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_host_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_user_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_scope_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_exact_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_shell_needs_all, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_services, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_tampered_and_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_valid_grant_wins_over_broken, setup, teardown),
		cmocka_unit_test_setup_teardown(decide_reports_closest_reason, setup, teardown),
		cmocka_unit_test(reason_names_are_fixed),
		cmocka_unit_test(resolve_uses_secure_path_only),
		cmocka_unit_test_setup_teardown(check_over_store, setup, teardown),
		cmocka_unit_test_setup_teardown(active_grants_filters, setup, teardown),
	};

	return cmocka_run_group_tests_name("decision", tests, NULL, NULL);
}
