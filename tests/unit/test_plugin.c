/* Drives the built sudo_jit.so through its policy_plugin entry points the
 * way the sudo front end does, with fake settings, a recording printf and a
 * scripted conversation. Nothing here runs sudo or changes the system: the
 * configuration, keys, store and timestamp folder live in a temporary
 * folder, and grants are signed with a key made for the test.
 *
 * Argument: the path of the built sudo_jit.so. */
#include "testlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sudo_plugin.h>

#define TEST_HOST "testhost"
#define SECURE_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
/* Invoking users with grants in the fixture store. */
#define USER_COMMAND "alice"     /* /usr/bin/id, role ops */
#define USER_ALL "bob"           /* ALL, role ops */
#define USER_AUTH "carol"        /* /usr/bin/id, role secure (authenticate) */
#define USER_NONE "dave"         /* no grant */
#define UID_AUTH 61003

static char **test_argv;
static const struct policy_plugin *policy;

static char messages[65536];
static size_t messages_len;
static int conversation_calls;

struct fixture {
	char *dir;
	char *config_path;       /* a working configuration */
	char *ts_dir;
	char command_grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	char all_grant_id[JIT_GRANT_ID_HEX_LEN + 1];
	char auth_grant_id[JIT_GRANT_ID_HEX_LEN + 1];
};

/* One open plugin: the vectors given to open must outlive it. */
struct session {
	char **settings;
	char **user_info;
	char **user_env;
	char **options;
	const char *errstr;
};

static int record_printf(int msg_type, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static int record_printf(int msg_type, const char *format, ...)
{
	va_list ap;
	int n;

	(void)msg_type;
	va_start(ap, format);
	n = vsnprintf(messages + messages_len, sizeof(messages) - messages_len,
		      format, ap);
	va_end(ap);
	if (n > 0) {
		messages_len += (size_t)n;
		if (messages_len >= sizeof(messages))
			messages_len = sizeof(messages) - 1;
	}
	return n;
}

/* Any prompt is a failure in these tests: -n must never reach one. */
static int refusing_conversation(int count, const struct sudo_conv_message msgs[],
				 struct sudo_conv_reply replies[],
				 struct sudo_conv_callback *callback)
{
	(void)count;
	(void)msgs;
	(void)replies;
	(void)callback;
	conversation_calls++;
	return -1;
}

static void messages_reset(void)
{
	messages[0] = '\0';
	messages_len = 0;
	conversation_calls = 0;
}

static void assert_message_contains(const char *text)
{
	if (strstr(messages, text) == NULL)
		fail_msg("expected \"%s\" in the plugin's output:\n%s", text, messages);
}

static char **vector_new(const char *const items[])
{
	size_t count = 0;
	char **vector;

	while (items[count] != NULL)
		count++;
	vector = calloc(count + 1, sizeof(*vector));
	assert_non_null(vector);
	for (size_t i = 0; i < count; i++) {
		vector[i] = strdup(items[i]);
		assert_non_null(vector[i]);
	}
	return vector;
}

static void vector_free(char **vector)
{
	for (size_t i = 0; vector != NULL && vector[i] != NULL; i++)
		free(vector[i]);
	free(vector);
}

/* Returns the value of name in a "name=value" vector, or NULL. */
static const char *vector_get(char *const vector[], const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; vector != NULL && vector[i] != NULL; i++)
		if (strncmp(vector[i], name, len) == 0 && vector[i][len] == '=')
			return vector[i] + len + 1;
	return NULL;
}

static const char *const default_env[] = {
	"PATH=/home/alice/bin:/usr/bin:/bin",
	"TERM=xterm-256color",
	"TERM=vt100",
	"LANG=C.UTF-8",
	"LC_ALL=../../tmp/evil",
	"LC_TIME=C",
	"TZ=/etc/passwd",
	"DISPLAY=:0",
	"LD_PRELOAD=/tmp/evil.so",
	"LD_LIBRARY_PATH=/tmp",
	"BASH_ENV=/tmp/evil.sh",
	"ENV=/tmp/evil.sh",
	"IFS=/",
	"PERL5LIB=/tmp",
	"PYTHONPATH=/tmp",
	"HOME=/home/alice",
	"XAUTHORITY=/home/alice/.Xauthority",
	"JIT_GRANT_ID=forged",
	NULL,
};

/* Opens the plugin as the front end would, for user with uid, adding
 * extra settings (NULL-terminated, may be NULL) to a base set that always
 * contains a setting no sudo version sends, as a newer front end might. */
static int session_open_full(struct session *s, unsigned int version,
			     const char *option, const char *user, unsigned uid,
			     const char *const extra[], const char *const env[])
{
	const char *settings[32] = { "progname=sudo", "frobnicate=1",
				     "network_addrs=127.0.0.1/255.0.0.0" };
	const char *options[] = { option, NULL };
	char user_line[64], uid_line[32], gid_line[32];
	const char *user_info[] = {
		user_line, uid_line, gid_line, "euid=0", "tty=", "host=" TEST_HOST,
		"cwd=/", "umask=027", "sid=4242", "pid=4243", NULL,
	};
	size_t n = 3;

	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		settings[n++] = extra[i];
	settings[n] = NULL;

	snprintf(user_line, sizeof(user_line), "user=%s", user);
	snprintf(uid_line, sizeof(uid_line), "uid=%u", uid);
	snprintf(gid_line, sizeof(gid_line), "gid=%u", uid);

	memset(s, 0, sizeof(*s));
	s->settings = vector_new(settings);
	s->user_info = vector_new(user_info);
	s->user_env = vector_new(env != NULL ? env : default_env);
	s->options = option != NULL ? vector_new(options) : NULL;

	messages_reset();
	return policy->open(version, refusing_conversation, record_printf,
			    s->settings, s->user_info, s->user_env, s->options,
			    &s->errstr);
}

static void session_open_env(struct session *s, const char *config_path,
			     const char *user, unsigned uid,
			     const char *const extra[], const char *const env[])
{
	char option[1024];

	snprintf(option, sizeof(option), "config=%s", config_path);
	assert_int_equal(session_open_full(s, SUDO_API_VERSION, option, user,
					   uid, extra, env), 1);
}

static void session_open(struct session *s, const char *config_path,
			 const char *user, unsigned uid, const char *const extra[])
{
	session_open_env(s, config_path, user, uid, extra, NULL);
}

static void session_close(struct session *s)
{
	policy->close(0, 0);
	vector_free(s->settings);
	vector_free(s->user_info);
	vector_free(s->user_env);
	vector_free(s->options);
}

/* Calls check_policy with argv and no env_add. */
static int check(int argc, char *const argv[], char ***info, char ***argv_out,
		 char ***env_out)
{
	char *env_add[] = { NULL };
	const char *errstr = NULL;

	*info = NULL;
	*argv_out = NULL;
	*env_out = NULL;
	return policy->check_policy(argc, argv, env_add, info, argv_out,
				    env_out, &errstr);
}

static int check_command(const char *config_path, const char *user,
			 unsigned uid, const char *const extra[],
			 char *const argv[], int argc)
{
	struct session s;
	char **info, **argv_out, **env;
	int result;

	session_open(&s, config_path, user, uid, extra);
	result = check(argc, argv, &info, &argv_out, &env);
	session_close(&s);
	return result;
}

/* ---- the fixture: keys, a store with grants, configurations ---- */

static char *write_config(const struct fixture *f, const char *name,
			  const char *store_dir, const char *extra)
{
	char *text = NULL, *path;

	assert_true(asprintf(&text,
		"[jit]\n"
		"store = %s\n"
		"issuer_key = %s/issuer.key\n"
		"trusted_keys = %s/trusted.d\n"
		"hostname = " TEST_HOST "\n"
		"\n"
		"[sudo]\n"
		"authenticate = no\n"
		"secure_path = " SECURE_PATH "\n"
		"timestamp_dir = %s\n"
		"\n"
		"[role ops]\n"
		"default_duration = 45m\n"
		"\n"
		"[role secure]\n"
		"authenticate = yes\n"
		"%s",
		store_dir, f->dir, f->dir, f->ts_dir, extra) > 0);
	path = test_write_file(f->dir, name, text, 0644);
	free(text);
	return path;
}

static void store_grant(const struct fixture *f, const jit_issuer_key *key,
			const char *user, const char *role, const char *command,
			char id_out[JIT_GRANT_ID_HEX_LEN + 1])
{
	int64_t now = (int64_t)time(NULL);
	jit_store *store = NULL;
	jit_grant *grant = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char *store_dir;

	assert_int_equal(jit_grant_new(&grant, NULL), JIT_OK);
	jit_grant_new_id(grant);
	grant->not_before = now - 60;
	grant->not_after = now + 600;
	grant->issued_at = now - 60;
	grant->user = strdup(user);
	grant->role = strdup(role);
	grant->request_id = strdup("");
	grant->requester = strdup("root");
	grant->reason = strdup("plugin unit test");
	assert_int_equal(jit_strlist_append(&grant->hosts, TEST_HOST), JIT_OK);
	assert_int_equal(jit_strlist_append(&grant->approvers, "root"), JIT_OK);
	assert_int_equal(jit_grant_add_command(grant, command, NULL, NULL), JIT_OK);
	assert_int_equal(jit_grant_sign(grant, key, &blob, &blob_len, NULL), JIT_OK);

	assert_true(asprintf(&store_dir, "%s/store", f->dir) > 0);
	assert_int_equal(jit_store_open(store_dir, JIT_STORE_WRITE, &store, NULL),
			 JIT_OK);
	assert_int_equal(jit_store_put_grant(store, grant->id, user,
					     grant->not_after, blob, blob_len,
					     NULL), JIT_OK);
	jit_store_close(store);

	jit_grant_id_format(grant->id, id_out);
	free(store_dir);
	free(blob);
	jit_grant_free(grant);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	jit_issuer_key *key = NULL;
	char *key_path, *trusted, *store_dir;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	assert_true(asprintf(&f->ts_dir, "%s/run/ts", f->dir) > 0);
	assert_true(asprintf(&key_path, "%s/issuer.key", f->dir) > 0);
	assert_true(asprintf(&trusted, "%s/trusted.d", f->dir) > 0);
	assert_true(asprintf(&store_dir, "%s/store", f->dir) > 0);

	assert_int_equal(jit_issuer_key_generate(key_path, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(key_path, &key, NULL), JIT_OK);
	assert_int_equal(mkdir(trusted, 0755), 0);
	assert_int_equal(jit_issuer_key_write_public(key, trusted, NULL), JIT_OK);
	assert_int_equal(jit_store_create(store_dir, NULL), JIT_OK);

	f->config_path = write_config(f, "jit.conf", store_dir, "");
	store_grant(f, key, USER_COMMAND, "ops", "/usr/bin/id", f->command_grant_id);
	store_grant(f, key, USER_ALL, "ops", "ALL", f->all_grant_id);
	store_grant(f, key, USER_AUTH, "secure", "/usr/bin/id", f->auth_grant_id);

	jit_issuer_key_free(key);
	free(key_path);
	free(trusted);
	free(store_dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_rmtree(f->dir);
	free(f->dir);
	free(f->config_path);
	free(f->ts_dir);
	free(f);
	return 0;
}

/* ---- open ---- */

static void open_ignores_unknown_setting(void **state)
{
	struct fixture *f = *state;
	struct session s;

	/* session_open asserts 1; its settings include frobnicate=1. */
	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	session_close(&s);
}

static void open_rejects_other_api_major(void **state)
{
	struct session s;

	(void)state;
	assert_int_equal(session_open_full(&s, SUDO_API_MKVERSION(2, 0),
					   "config=/etc/jit/jit.conf",
					   USER_COMMAND, 61001, NULL, NULL), -1);
	assert_message_contains("API 2.0");
	session_close(&s);
}

static void open_rejects_unknown_plugin_option(void **state)
{
	struct session s;

	(void)state;
	assert_int_equal(session_open_full(&s, SUDO_API_VERSION,
					   "confg=/etc/jit/jit.conf",
					   USER_COMMAND, 61001, NULL, NULL), -1);
	assert_non_null(s.errstr);
	assert_non_null(strstr(s.errstr, "confg="));
	session_close(&s);
}

static void open_rejects_relative_config_path(void **state)
{
	struct session s;

	(void)state;
	assert_int_equal(session_open_full(&s, SUDO_API_VERSION, "config=jit.conf",
					   USER_COMMAND, 61001, NULL, NULL), -1);
	assert_message_contains("absolute path");
	session_close(&s);
}

static void open_rejects_invalid_boolean(void **state)
{
	static const char *const extra[] = { "noninteractive=maybe", NULL };
	struct session s;

	(void)state;
	assert_int_equal(session_open_full(&s, SUDO_API_VERSION,
					   "config=/etc/jit/jit.conf",
					   USER_COMMAND, 61001, extra, NULL), -1);
	assert_message_contains("noninteractive");
	session_close(&s);
}

static void open_rejects_missing_user(void **state)
{
	char *settings[] = { NULL };
	char *user_info[] = { (char *)"uid=1", (char *)"gid=1", NULL };
	const char *errstr = NULL;

	(void)state;
	messages_reset();
	assert_int_equal(policy->open(SUDO_API_VERSION, refusing_conversation,
				      record_printf, settings, user_info, settings,
				      NULL, &errstr), -1);
	assert_non_null(errstr);
	assert_message_contains("no user");
	policy->close(0, 0);
}

/* ---- check_policy: configuration and front-end failures ---- */

static void check_denies_unknown_config_key(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *path = test_write_file(f->dir, "unknown-key.conf",
				     "[jit]\nfrobnicate = 1\n", 0644);

	assert_int_equal(check_command(path, USER_COMMAND, 61001, NULL, argv, 1), 0);
	assert_message_contains(path);
	assert_message_contains(":2:");
	assert_message_contains("frobnicate");
	free(path);
}

static void check_denies_missing_store(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *missing, *path;

	assert_true(asprintf(&missing, "%s/no-such-store", f->dir) > 0);
	path = write_config(f, "missing-store.conf", missing, "");

	assert_int_equal(check_command(path, USER_COMMAND, 61001, NULL, argv, 1), 0);
	assert_message_contains("store-error");
	assert_message_contains(missing);
	free(missing);
	free(path);
}

static void check_denies_missing_config(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *path;

	assert_true(asprintf(&path, "%s/absent.conf", f->dir) > 0);
	assert_int_equal(check_command(path, USER_COMMAND, 61001, NULL, argv, 1), 0);
	assert_message_contains(path);
	free(path);
}

static void check_denies_world_writable_config(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *store_dir, *path;

	assert_true(asprintf(&store_dir, "%s/store", f->dir) > 0);
	path = write_config(f, "writable.conf", store_dir, "");
	assert_int_equal(chmod(path, 0666), 0);

	assert_int_equal(check_command(path, USER_COMMAND, 61001, NULL, argv, 1), 0);
	assert_message_contains(path);
	free(store_dir);
	free(path);
}

static void check_rejects_unsupported_options(void **state)
{
	static const char *const cases[][2] = {
		{ "preserve_environment=true", "-E" },
		{ "sudoedit=true", "-e" },
		{ "cmnd_chroot=/tmp", "-R" },
		{ "cmnd_cwd=/tmp", "-D" },
		{ "closefrom=5", "-C" },
		{ "preserve_groups=true", "-P" },
		{ "remote_host=elsewhere", "-h" },
	};
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *extra[] = { cases[i][0], NULL };

		assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
					       extra, argv, 1), 0);
		assert_message_contains(cases[i][1]);
		assert_message_contains("not supported with jit grants");
	}
}

static void check_accepts_options_set_false(void **state)
{
	static const char *const extra[] = { "preserve_environment=false",
					     "sudoedit=false", "preserve_groups=false",
					     NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, extra,
				       argv, 1), 1);
}

static void check_rejects_env_add(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *env_add[] = { (char *)"LD_PRELOAD=/tmp/evil.so", NULL };
	char **info = NULL, **argv_out = NULL, **env = NULL;
	const char *errstr = NULL;
	struct session s;

	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(policy->check_policy(1, argv, env_add, &info, &argv_out,
					      &env, &errstr), 0);
	assert_null(info);
	assert_non_null(errstr);
	assert_message_contains("environment variables");
	session_close(&s);
}

static void check_denies_unknown_runas_user(void **state)
{
	static const char *const extra[] = { "runas_user=no-such-user-jit", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, extra,
				       argv, 1), 0);
	assert_message_contains("unknown runas user 'no-such-user-jit'");
}

static void check_denies_unknown_runas_group(void **state)
{
	static const char *const extra[] = { "runas_group=no-such-group-jit", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, extra,
				       argv, 1), 0);
	assert_message_contains("unknown runas group 'no-such-group-jit'");
}

static void check_denies_command_not_in_secure_path(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"no-such-command-jit", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, NULL,
				       argv, 1), 0);
	assert_message_contains("not found in the secure path");
}

/* ---- check_policy: decisions ---- */

static void check_allows_granted_command(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", (char *)"-u", NULL };
	char **info, **argv_out, **env;
	struct session s;
	const char *timeout;
	long seconds;

	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(check(2, argv, &info, &argv_out, &env), 1);

	assert_string_equal(vector_get(info, "command"), "/usr/bin/id");
	assert_string_equal(vector_get(info, "runas_user"), "root");
	assert_string_equal(vector_get(info, "runas_uid"), "0");
	assert_string_equal(vector_get(info, "runas_euid"), "0");
	assert_string_equal(vector_get(info, "runas_gid"), "0");
	assert_non_null(vector_get(info, "runas_groups"));
	assert_null(vector_get(info, "cwd"));
	/* The caller's umask 027 joined with 022. */
	assert_string_equal(vector_get(info, "umask"), "027");
	assert_string_equal(vector_get(info, "closefrom"), "3");

	timeout = vector_get(info, "timeout");
	assert_non_null(timeout);
	seconds = strtol(timeout, NULL, 10);
	assert_true(seconds > 500 && seconds <= 600);

	assert_string_equal(argv_out[0], "id");
	assert_string_equal(argv_out[1], "-u");
	assert_null(argv_out[2]);
	session_close(&s);
}

static void check_resets_environment(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", (char *)"-u", NULL };
	static const char *const dropped[] = {
		"LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "IFS",
		"PERL5LIB", "PYTHONPATH", "LC_ALL", "TZ", "XAUTHORITY",
	};
	char **info, **argv_out, **env;
	struct session s;
	size_t terms = 0;

	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(check(2, argv, &info, &argv_out, &env), 1);

	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (vector_get(env, dropped[i]) != NULL)
			fail_msg("%s passed the environment reset", dropped[i]);

	assert_string_equal(vector_get(env, "PATH"), SECURE_PATH);
	assert_string_equal(vector_get(env, "HOME"), "/root");
	assert_string_equal(vector_get(env, "USER"), "root");
	assert_string_equal(vector_get(env, "LOGNAME"), "root");
	assert_string_equal(vector_get(env, "MAIL"), "/var/mail/root");
	assert_string_equal(vector_get(env, "SUDO_USER"), USER_COMMAND);
	assert_string_equal(vector_get(env, "SUDO_UID"), "61001");
	assert_string_equal(vector_get(env, "SUDO_GID"), "61001");
	assert_string_equal(vector_get(env, "SUDO_COMMAND"), "/usr/bin/id -u");
	assert_string_equal(vector_get(env, "JIT_GRANT_ID"), f->command_grant_id);
	assert_string_equal(vector_get(env, "TERM"), "xterm-256color");
	assert_string_equal(vector_get(env, "LANG"), "C.UTF-8");
	assert_string_equal(vector_get(env, "LC_TIME"), "C");
	assert_string_equal(vector_get(env, "DISPLAY"), ":0");

	for (size_t i = 0; env[i] != NULL; i++)
		terms += strncmp(env[i], "TERM=", 5) == 0;
	assert_int_equal(terms, 1);
	session_close(&s);
}

static void check_passes_safe_tz_only(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	static const char *const cases[][2] = {
		{ "TZ=Europe/Paris", "Europe/Paris" },
		{ "TZ=:UTC", ":UTC" },
		{ "TZ=/etc/shadow", NULL },
		{ "TZ=Europe/../../etc/shadow", NULL },
		{ "TZ=%s%s", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *env_items[] = { cases[i][0], NULL };
		char **info, **argv_out, **env;
		struct session s;
		const char *tz;

		session_open_env(&s, f->config_path, USER_COMMAND, 61001, NULL,
				 env_items);
		assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);
		tz = vector_get(env, "TZ");
		if (cases[i][1] == NULL)
			assert_null(tz);
		else
			assert_string_equal(tz, cases[i][1]);
		session_close(&s);
	}
}

static void check_denies_ungranted_command(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"cat", (char *)"/etc/shadow", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, NULL,
				       argv, 2), 0);
	assert_message_contains("alice has no active grant for /usr/bin/cat on host "
				TEST_HOST);
	/* Role ops does not cover /usr/bin/cat, so a direct grant is named. */
	assert_message_contains("jitctl grant alice --for 30m --reason \"...\" --command '/usr/bin/cat /etc/shadow'");
}

static void check_denies_user_without_grant(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_NONE, 61004, NULL,
				       argv, 1), 0);
	assert_message_contains("(no-grant).");
	assert_message_contains("ask an administrator for a grant: jitctl grant dave --for 30m --reason \"...\" --command '/usr/bin/id \"\"'");
}

static void check_denies_other_runas_user(void **state)
{
	static const char *const extra[] = { "runas_user=daemon", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, extra,
				       argv, 1), 0);
	assert_message_contains(" as daemon");
}

static void check_accepts_numeric_runas_user(void **state)
{
	static const char *const extra[] = { "runas_user=#0", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char **info, **argv_out, **env;
	struct session s;

	session_open(&s, f->config_path, USER_COMMAND, 61001, extra);
	assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);
	assert_string_equal(vector_get(info, "runas_user"), "root");
	session_close(&s);
}

static void check_sets_runas_group(void **state)
{
	static const char *const extra[] = { "runas_group=#0", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	/* The command grant names no runas group, so asking for one denies. */
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, extra,
				       argv, 1), 0);
	assert_message_contains(" as root:root ");
}

static void check_denies_shells_for_command_grant(void **state)
{
	struct fixture *f = *state;
	static const char *const run_shell[] = { "run_shell=true", NULL };
	static const char *const login_shell[] = { "login_shell=true", NULL };
	static const char *const implied[] = { "implied_shell=true", NULL };
	char *shell[] = { (char *)"/bin/sh", NULL };
	char *shell_cmd[] = { (char *)"/bin/sh", (char *)"-c", (char *)"id", NULL };
	char *sh_c[] = { (char *)"sh", (char *)"-c", (char *)"id", NULL };

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       run_shell, shell, 1), 0);
	assert_message_contains("a shell");
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       login_shell, shell, 1), 0);
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       login_shell, shell_cmd, 3), 0);
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       implied, shell, 1), 0);
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       NULL, sh_c, 3), 0);
	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001,
				       NULL, shell, 0), 0);
}

static void check_allows_login_shell_for_all_grant(void **state)
{
	static const char *const login_shell[] = { "login_shell=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"/bin/false", (char *)"-c", (char *)"id", NULL };
	char **info, **argv_out, **env;
	const char *command;
	struct session s;

	session_open(&s, f->config_path, USER_ALL, 61002, login_shell);
	assert_int_equal(check(3, argv, &info, &argv_out, &env), 1);

	/* root's shell from the password database, not the caller's. */
	command = vector_get(info, "command");
	assert_non_null(command);
	assert_string_not_equal(command, "/bin/false");
	assert_string_equal(vector_get(info, "cwd"), "/root");
	assert_int_equal(argv_out[0][0], '-');
	assert_non_null(strstr(command, argv_out[0] + 1));
	assert_string_equal(argv_out[1], "-c");
	assert_string_equal(argv_out[2], "id");
	assert_string_equal(vector_get(env, "JIT_GRANT_ID"), f->all_grant_id);
	session_close(&s);
}

static void check_honours_shorter_user_timeout(void **state)
{
	static const char *const extra[] = { "timeout=90", NULL };
	static const char *const longer[] = { "timeout=2h", NULL };
	static const char *const invalid[] = { "timeout=soon", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char **info, **argv_out, **env;
	struct session s;
	long seconds;

	session_open(&s, f->config_path, USER_COMMAND, 61001, extra);
	assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);
	assert_string_equal(vector_get(info, "timeout"), "90");
	session_close(&s);

	session_open(&s, f->config_path, USER_COMMAND, 61001, longer);
	assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);
	seconds = strtol(vector_get(info, "timeout"), NULL, 10);
	assert_true(seconds > 500 && seconds <= 600);
	session_close(&s);

	assert_int_equal(check_command(f->config_path, USER_COMMAND, 61001, invalid,
				       argv, 1), 0);
}

/* ---- authentication and the credential cache ---- */

static char *timestamp_path(const struct fixture *f, unsigned uid)
{
	char *path;

	assert_true(asprintf(&path, "%s/%u-notty", f->ts_dir, uid) > 0);
	return path;
}

/* Writes a credential cache file as the plugin would after a successful
 * authentication at auth_ms. */
static void write_timestamp(const struct fixture *f, unsigned uid,
			    const char *grant_id, int64_t auth_ms)
{
	char name[64], text[128];
	char *parent = strdup(f->ts_dir);

	assert_non_null(parent);
	*strrchr(parent, '/') = '\0';
	assert_true(mkdir(parent, 0755) == 0 || errno == EEXIST);
	assert_true(mkdir(f->ts_dir, 0700) == 0 || errno == EEXIST);
	free(parent);

	snprintf(name, sizeof(name), "%u-notty", uid);
	snprintf(text, sizeof(text), "jit-ts1 %s %lld 0\n", grant_id,
		 (long long)auth_ms);
	free(test_write_file(f->ts_dir, name, text, 0600));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check_noninteractive_needs_password(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *path = timestamp_path(f, UID_AUTH);

	unlink(path);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 0);
	assert_message_contains("a password is required");
	assert_int_equal(conversation_calls, 0);
	free(path);
}

static void check_uses_valid_timestamp(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms() - 1000);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 1);
	assert_int_equal(conversation_calls, 0);
}

static void check_ignores_timestamp_of_other_grant(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	write_timestamp(f, UID_AUTH, f->command_grant_id, now_ms() - 1000);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 0);
	assert_message_contains("a password is required");
}

static void check_ignores_old_timestamp(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };

	/* The default timestamp_timeout is 300 s. */
	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms() - 301 * 1000);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 0);

	/* -k with a command ignores even a fresh one. */
	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms() - 1000);
	{
		static const char *const ignore[] = { "noninteractive=true",
						      "ignore_ticket=true", NULL };

		assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH,
					       ignore, argv, 1), 0);
	}
}

static void check_ignores_group_writable_timestamp(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char *path = timestamp_path(f, UID_AUTH);

	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms() - 1000);
	assert_int_equal(chmod(path, 0660), 0);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 0);

	/* A safe file in a folder others can write is not trusted either. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chmod(f->ts_dir, 0777), 0);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 0);
	assert_int_equal(chmod(f->ts_dir, 0700), 0);
	assert_int_equal(check_command(f->config_path, USER_AUTH, UID_AUTH, extra,
				       argv, 1), 1);
	unlink(path);
	free(path);
}

static void invalidate_removes_only_callers_timestamps(void **state)
{
	struct fixture *f = *state;
	char *own = NULL, *other = NULL;
	struct session s;

	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms());
	write_timestamp(f, UID_AUTH * 10, f->auth_grant_id, now_ms());
	own = timestamp_path(f, UID_AUTH);
	other = timestamp_path(f, UID_AUTH * 10);

	session_open(&s, f->config_path, USER_AUTH, UID_AUTH, NULL);
	policy->invalidate(1);
	session_close(&s);

	assert_int_equal(access(own, F_OK), -1);
	assert_int_equal(access(other, F_OK), 0);
	unlink(other);
	free(own);
	free(other);
}

/* ---- validate, list, version, close ---- */

static int validate_as(const char *config_path, const char *user, unsigned uid,
		       const char *const extra[])
{
	const char *errstr = NULL;
	struct session s;
	int result;

	session_open(&s, config_path, user, uid, extra);
	result = policy->validate(&errstr);
	session_close(&s);
	return result;
}

static void validate_depends_on_grant(void **state)
{
	static const char *const extra[] = { "noninteractive=true", NULL };
	struct fixture *f = *state;
	char *path = timestamp_path(f, UID_AUTH);

	assert_int_equal(validate_as(f->config_path, USER_COMMAND, 61001, extra), 1);
	assert_int_equal(validate_as(f->config_path, USER_NONE, 61004, extra), 0);
	assert_message_contains("dave has no active grants on " TEST_HOST);

	unlink(path);
	assert_int_equal(validate_as(f->config_path, USER_AUTH, UID_AUTH, extra), 0);
	assert_message_contains("a password is required");
	assert_int_equal(conversation_calls, 0);

	write_timestamp(f, UID_AUTH, f->auth_grant_id, now_ms() - 1000);
	assert_int_equal(validate_as(f->config_path, USER_AUTH, UID_AUTH, extra), 1);
	unlink(path);
	free(path);
}

static void validate_denies_on_config_error(void **state)
{
	struct fixture *f = *state;
	char *path;

	assert_true(asprintf(&path, "%s/absent.conf", f->dir) > 0);
	assert_int_equal(validate_as(path, USER_COMMAND, 61001, NULL), 0);
	assert_message_contains(path);
	free(path);
}

static int list_as(const char *config_path, const char *user, unsigned uid,
		   int argc, char *const argv[], const char *list_user)
{
	const char *errstr = NULL;
	struct session s;
	int result;

	session_open(&s, config_path, user, uid, NULL);
	result = policy->list(argc, argv, 0, list_user, &errstr);
	session_close(&s);
	return result;
}

static void list_shows_active_grant(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(list_as(f->config_path, USER_COMMAND, 61001, 0, NULL,
				 NULL), 1);
	assert_message_contains(f->command_grant_id);
	assert_message_contains("role ops");
	assert_message_contains("command: /usr/bin/id");
	assert_message_contains("runas: root");
	assert_message_contains("expires in ");
}

static void list_without_grants_succeeds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(list_as(f->config_path, USER_NONE, 61004, 0, NULL, NULL), 1);
	assert_message_contains("dave has no active grants on " TEST_HOST ".");
}

static void list_command_agrees_with_check(void **state)
{
	struct fixture *f = *state;
	char *allowed[] = { (char *)"id", (char *)"-u", NULL };
	char *denied[] = { (char *)"cat", NULL };

	assert_int_equal(list_as(f->config_path, USER_COMMAND, 61001, 2, allowed,
				 NULL), 1);
	assert_message_contains("/usr/bin/id -u\n");
	assert_int_equal(list_as(f->config_path, USER_COMMAND, 61001, 1, denied,
				 NULL), 0);
	assert_message_contains("no active grant for /usr/bin/cat");
}

static void list_other_user_needs_root(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(list_as(f->config_path, USER_NONE, 61004, 0, NULL,
				 USER_COMMAND), 0);
	assert_message_contains("only root");
	assert_int_equal(list_as(f->config_path, "root", 0, 0, NULL,
				 USER_COMMAND), 1);
	assert_message_contains(f->command_grant_id);
}

static void list_reports_store_error(void **state)
{
	struct fixture *f = *state;
	char *missing, *path;

	assert_true(asprintf(&missing, "%s/no-such-store", f->dir) > 0);
	path = write_config(f, "list-missing-store.conf", missing, "");
	assert_int_equal(list_as(path, USER_COMMAND, 61001, 0, NULL, NULL), 0);
	assert_message_contains("cannot list the grants of alice");
	assert_message_contains(missing);
	free(missing);
	free(path);
}

static void invalidate_reports_config_error(void **state)
{
	struct fixture *f = *state;
	struct session s;
	char *path;

	assert_true(asprintf(&path, "%s/absent.conf", f->dir) > 0);
	session_open(&s, path, USER_AUTH, UID_AUTH, NULL);
	policy->invalidate(0);
	assert_message_contains(path);
	session_close(&s);
	free(path);
}

static void show_version_names_plugin(void **state)
{
	struct fixture *f = *state;
	struct session s;

	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(policy->show_version(0), 1);
	assert_message_contains("jit policy plugin version ");
	session_close(&s);
}

static void close_reports_exec_failure(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char **info, **argv_out, **env;
	struct session s;

	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);
	policy->close(0, ENOENT);
	assert_message_contains("unable to run /usr/bin/id");
	/* session_close closes again, as a second close must be harmless. */
	session_close(&s);
}

/* A command whose session and evidence cannot be recorded does not run. */
static void init_session_fails_without_store(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { (char *)"id", NULL };
	char **info, **argv_out, **env;
	char *store_dir, *moved;
	const char *errstr = NULL;
	struct session s;

	assert_true(asprintf(&store_dir, "%s/store", f->dir) > 0);
	assert_true(asprintf(&moved, "%s/store.moved", f->dir) > 0);
	session_open(&s, f->config_path, USER_COMMAND, 61001, NULL);
	assert_int_equal(check(1, argv, &info, &argv_out, &env), 1);

	assert_int_equal(rename(store_dir, moved), 0);
	assert_int_equal(policy->init_session(NULL, &env, &errstr), -1);
	assert_int_equal(rename(moved, store_dir), 0);
	assert_message_contains("the session of /usr/bin/id could not be recorded");
	assert_message_contains(store_dir);
	assert_string_equal(errstr, "session not recorded");

	session_close(&s);
	free(store_dir);
	free(moved);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_ignores_unknown_setting),
		cmocka_unit_test(open_rejects_other_api_major),
		cmocka_unit_test(open_rejects_unknown_plugin_option),
		cmocka_unit_test(open_rejects_relative_config_path),
		cmocka_unit_test(open_rejects_invalid_boolean),
		cmocka_unit_test(open_rejects_missing_user),
		cmocka_unit_test(check_denies_unknown_config_key),
		cmocka_unit_test(check_denies_missing_store),
		cmocka_unit_test(check_denies_missing_config),
		cmocka_unit_test(check_denies_world_writable_config),
		cmocka_unit_test(check_rejects_unsupported_options),
		cmocka_unit_test(check_accepts_options_set_false),
		cmocka_unit_test(check_rejects_env_add),
		cmocka_unit_test(check_denies_unknown_runas_user),
		cmocka_unit_test(check_denies_unknown_runas_group),
		cmocka_unit_test(check_denies_command_not_in_secure_path),
		cmocka_unit_test(check_allows_granted_command),
		cmocka_unit_test(check_resets_environment),
		cmocka_unit_test(check_passes_safe_tz_only),
		cmocka_unit_test(check_denies_ungranted_command),
		cmocka_unit_test(check_denies_user_without_grant),
		cmocka_unit_test(check_denies_other_runas_user),
		cmocka_unit_test(check_accepts_numeric_runas_user),
		cmocka_unit_test(check_sets_runas_group),
		cmocka_unit_test(check_denies_shells_for_command_grant),
		cmocka_unit_test(check_allows_login_shell_for_all_grant),
		cmocka_unit_test(check_honours_shorter_user_timeout),
		cmocka_unit_test(check_noninteractive_needs_password),
		cmocka_unit_test(check_uses_valid_timestamp),
		cmocka_unit_test(check_ignores_timestamp_of_other_grant),
		cmocka_unit_test(check_ignores_old_timestamp),
		cmocka_unit_test(check_ignores_group_writable_timestamp),
		cmocka_unit_test(invalidate_removes_only_callers_timestamps),
		cmocka_unit_test(validate_depends_on_grant),
		cmocka_unit_test(validate_denies_on_config_error),
		cmocka_unit_test(list_shows_active_grant),
		cmocka_unit_test(list_without_grants_succeeds),
		cmocka_unit_test(list_command_agrees_with_check),
		cmocka_unit_test(list_other_user_needs_root),
		cmocka_unit_test(list_reports_store_error),
		cmocka_unit_test(invalidate_reports_config_error),
		cmocka_unit_test(show_version_names_plugin),
		cmocka_unit_test(close_reports_exec_failure),
		cmocka_unit_test(init_session_fails_without_store),
	};
	void *handle;
	int result;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SUDO_JIT_SO\n", argv[0]);
		return 2;
	}
	test_argv = argv;

	handle = dlopen(test_argv[1], RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", test_argv[1], dlerror());
		return 1;
	}
	policy = dlsym(handle, "jit_policy");
	if (policy == NULL) {
		fprintf(stderr, "%s does not export jit_policy\n", test_argv[1]);
		return 1;
	}

	result = cmocka_run_group_tests(tests, setup, teardown);
	dlclose(handle);
	return result;
}
