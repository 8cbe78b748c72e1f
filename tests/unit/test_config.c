#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char example[] =
	"[jit]\n"
	"store = /var/lib/jit              ; the LMDB folder\n"
	"issuer_key = /etc/jit/issuer.key  ; secret signing key, root only\n"
	"trusted_keys = /etc/jit/trusted.d ; public keys, one file each\n"
	"hostname =                        ; empty: the host's own name\n"
	"clock_skew = 60s                  ; leeway on not-before only\n"
	"max_duration = 8h                 ; global cap\n"
	"broker_socket = /run/jit/broker.sock\n"
	"break_glass_group = jit-break-glass\n"
	"\n"
	"[sudo]\n"
	"authenticate = yes\n"
	"secure_path = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	"\n"
	"[pam]\n"
	"gate = group:jit-gated            ; all, or a comma-separated list of user:NAME and group:NAME\n"
	"exempt = user:root\n"
	"\n"
	"[role db-admin]\n"
	"runas = postgres\n"
	"commands = /usr/bin/psql, /usr/bin/pg_dump\n"
	"services =\n"
	"max_duration = 2h\n"
	"approvers = %dba-leads\n"
	"approvals = 2\n";

static jit_config *parse_ok(const char *text)
{
	jit_config *config = NULL;
	jit_error error;

	jit_error_clear(&error);
	if (jit_config_parse("test.conf", text, &config, &error) != JIT_OK)
		fail_msg("config should parse: %s", error.message);
	assert_non_null(config);
	return config;
}

/* Checks that text is rejected as invalid with a message containing
 * expected. */
static void assert_rejected(const char *text, const char *expected)
{
	jit_config *config = NULL;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_config_parse("test.conf", text, &config, &error);
	if (r == JIT_OK)
		fail_msg("config should be rejected:\n%s", text);
	assert_int_equal(r, JIT_ERR_CONFIG);
	assert_int_equal(error.code, JIT_ERR_CONFIG);
	assert_null(config);
	if (strstr(error.message, expected) == NULL)
		fail_msg("message lacks '%s': %s", expected, error.message);
}

static void assert_list(const jit_strlist *list, const char *const *expected,
			size_t count)
{
	assert_int_equal(list->count, count);
	for (size_t i = 0; i < count; i++)
		assert_string_equal(list->items[i], expected[i]);
}

static void test_example_parses(void **state)
{
	static const char *const commands[] = { "/usr/bin/psql", "/usr/bin/pg_dump" };
	static const char *const runas[] = { "postgres" };
	static const char *const approvers[] = { "%dba-leads" };
	static const char *const gate[] = { "group:jit-gated" };
	static const char *const exempt[] = { "user:root" };
	char host[256] = "";
	jit_config *config = parse_ok(example);
	const jit_role *role;

	(void)state;
	assert_string_equal(config->path, "test.conf");
	assert_string_equal(config->store, "/var/lib/jit");
	assert_string_equal(config->issuer_key, "/etc/jit/issuer.key");
	assert_string_equal(config->trusted_keys, "/etc/jit/trusted.d");
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_string_equal(config->hostname, host);
	assert_int_equal(config->clock_skew, 60);
	assert_int_equal(config->max_duration, 8 * 3600);
	assert_string_equal(config->broker_socket, "/run/jit/broker.sock");
	assert_string_equal(config->break_glass_group, "jit-break-glass");
	assert_true(config->sudo_authenticate);
	assert_string_equal(config->secure_path,
			    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	assert_list(&config->gate, gate, 1);
	assert_list(&config->exempt, exempt, 1);

	assert_int_equal(config->role_count, 1);
	role = jit_config_find_role(config, "db-admin");
	assert_non_null(role);
	assert_string_equal(role->name, "db-admin");
	assert_list(&role->runas, runas, 1);
	assert_list(&role->commands, commands, 2);
	assert_int_equal(role->services.count, 0);
	assert_int_equal(role->hosts.count, 0);
	assert_int_equal(role->requesters.count, 0);
	assert_list(&role->approvers, approvers, 1);
	assert_int_equal(role->max_duration, 2 * 3600);
	assert_int_equal(role->default_duration, 0);
	assert_int_equal(role->approvals, 2);
	assert_null(role->reason_pattern);
	assert_int_equal(role->authenticate, JIT_UNSET);
	assert_int_equal(role->request_ttl, 3600);

	jit_config_free(config);
}

static void test_empty_text_gives_defaults(void **state)
{
	static const char *const gate[] = { "group:jit-gated" };
	static const char *const exempt[] = { "user:root" };
	jit_config *config = parse_ok("");

	(void)state;
	assert_string_equal(config->store, "/var/lib/jit");
	assert_string_equal(config->issuer_key, "/etc/jit/issuer.key");
	assert_string_equal(config->trusted_keys, "/etc/jit/trusted.d");
	assert_non_null(config->hostname);
	assert_int_equal(config->clock_skew, 60);
	assert_int_equal(config->max_duration, 8 * 3600);
	assert_string_equal(config->broker_socket, "/run/jit/broker.sock");
	assert_string_equal(config->break_glass_group, "jit-break-glass");
	assert_true(config->sudo_authenticate);
	assert_string_equal(config->secure_path,
			    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(config->timestamp_dir, "/run/jit/ts");
	assert_int_equal(config->timestamp_timeout, 300);
	assert_list(&config->gate, gate, 1);
	assert_list(&config->exempt, exempt, 1);
	assert_int_equal(config->role_count, 0);
	jit_config_free(config);
}

static void test_every_key_accepts_good_values(void **state)
{
	static const char *const hosts[] = { "web*.example.com", "db[12]", "cache-1" };
	static const char *const members[] = { "alice", "%ops" };
	static const char *const services[] = { "sshd", "login" };
	static const char *const gate[] = { "user:alice", "group:admins" };
	static const char *const exempt[] = { "group:root" };
	static const char *const runas_groups[] = { "adm" };
	jit_config *config;
	const jit_role *role;

	(void)state;
	config = parse_ok(
		"[jit]\n"
		"store = /srv/jit\n"
		"issuer_key = /srv/keys/issuer\n"
		"trusted_keys = /srv/keys/trusted\n"
		"hostname = web1.example.com\n"
		"clock_skew = 0\n"
		"max_duration = 1d\n"
		"broker_socket = /run/other.sock\n"
		"break_glass_group = emergency\n"
		"[sudo]\n"
		"authenticate = False\n"
		"secure_path = /usr/bin\n"
		"timestamp_dir = /run/jit/stamps\n"
		"timestamp_timeout = 0\n"
		"[pam]\n"
		"gate = user:alice, group:admins\n"
		"exempt = group:root\n"
		"[role ops]\n"
		"runas = root\n"
		"runas_groups = adm\n"
		"commands = ALL\n"
		"services = sshd, login\n"
		"hosts = web*.example.com, db[12], cache-1\n"
		"requesters = alice, %ops\n"
		"approvers = alice, %ops\n"
		"default_duration = 1h\n"
		"max_duration = 4h\n"
		"approvals = 3\n"
		"reason_pattern = ^(INC|CHG)-[0-9]+\n"
		"authenticate = no\n"
		"request_ttl = 30m\n");

	assert_string_equal(config->store, "/srv/jit");
	assert_string_equal(config->issuer_key, "/srv/keys/issuer");
	assert_string_equal(config->trusted_keys, "/srv/keys/trusted");
	assert_string_equal(config->hostname, "web1.example.com");
	assert_int_equal(config->clock_skew, 0);
	assert_int_equal(config->max_duration, 86400);
	assert_string_equal(config->broker_socket, "/run/other.sock");
	assert_string_equal(config->break_glass_group, "emergency");
	assert_false(config->sudo_authenticate);
	assert_string_equal(config->secure_path, "/usr/bin");
	assert_string_equal(config->timestamp_dir, "/run/jit/stamps");
	assert_int_equal(config->timestamp_timeout, 0);
	assert_list(&config->gate, gate, 2);
	assert_list(&config->exempt, exempt, 1);

	role = jit_config_find_role(config, "ops");
	assert_non_null(role);
	assert_string_equal(role->runas.items[0], "root");
	assert_list(&role->runas_groups, runas_groups, 1);
	assert_string_equal(role->commands.items[0], "ALL");
	assert_list(&role->services, services, 2);
	assert_list(&role->hosts, hosts, 3);
	assert_list(&role->requesters, members, 2);
	assert_list(&role->approvers, members, 2);
	assert_int_equal(role->default_duration, 3600);
	assert_int_equal(role->max_duration, 4 * 3600);
	assert_int_equal(role->approvals, 3);
	assert_string_equal(role->reason_pattern, "^(INC|CHG)-[0-9]+");
	assert_int_equal(role->authenticate, JIT_NO);
	assert_int_equal(role->request_ttl, 1800);
	jit_config_free(config);
}

static void test_commands_with_arguments(void **state)
{
	static const char *const commands[] = {
		"/usr/bin/systemctl status nginx", "/usr/bin/env A=1 B=2",
	};
	jit_config *config;

	(void)state;
	config = parse_ok("[role web]\n"
			  "commands = /usr/bin/systemctl status nginx, /usr/bin/env A=1 B=2\n");
	assert_list(&config->roles[0].commands, commands, 2);
	jit_config_free(config);
}

struct bad_case {
	const char *text;
	const char *message;
};

static void run_bad_cases(const struct bad_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++)
		assert_rejected(cases[i].text, cases[i].message);
}

static void test_bad_values_in_jit_section(void **state)
{
	static const struct bad_case cases[] = {
		{ "[jit]\nstore = var/lib/jit\n",
		  "test.conf:2: invalid store in [jit]: 'var/lib/jit' is not an absolute path" },
		{ "[jit]\nstore =\n", "is not an absolute path" },
		{ "[jit]\nissuer_key = issuer.key\n", "test.conf:2: invalid issuer_key in [jit]" },
		{ "[jit]\ntrusted_keys = ./trusted.d\n", "invalid trusted_keys in [jit]" },
		{ "[jit]\nhostname = web 1\n", "'web 1' is not a valid host name" },
		{ "[jit]\nhostname = -web\n", "is not a valid host name" },
		{ "[jit]\nhostname = web;1\n", "is not a valid host name" },
		{ "[jit]\nclock_skew = 1 minute\n", "invalid clock_skew in [jit]" },
		{ "[jit]\nclock_skew = -1s\n", "invalid clock_skew in [jit]" },
		{ "[jit]\nmax_duration = 0\n", "invalid max_duration in [jit]" },
		{ "[jit]\nmax_duration = 0s\n", "greater than zero" },
		{ "[jit]\nmax_duration = 99y\n", "unknown unit 'y'" },
		{ "[jit]\nmax_duration = 8\n", "add a unit" },
		{ "[jit]\nbroker_socket = broker.sock\n", "is not an absolute path" },
		{ "[jit]\nbroker_socket = /run/jit/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
		  "Unix socket path" },
		{ "[jit]\nbreak_glass_group = bad group\n", "'bad group' is not a valid user or group name" },
		{ "[jit]\nbreak_glass_group =\n", "invalid break_glass_group in [jit]" },
	};

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_values_in_sudo_section(void **state)
{
	static const struct bad_case cases[] = {
		{ "[sudo]\nauthenticate = maybe\n",
		  "test.conf:2: invalid authenticate in [sudo]: 'maybe' is not a yes/no value; use yes or no" },
		{ "[sudo]\nauthenticate = on\n", "not a yes/no value" },
		{ "[sudo]\nauthenticate =\n", "not a yes/no value" },
		{ "[sudo]\nsecure_path = /usr/bin:bin\n", "absolute folders separated by ':'" },
		{ "[sudo]\nsecure_path = /usr/bin::/bin\n", "no empty entries" },
		{ "[sudo]\nsecure_path = :/bin\n", "invalid secure_path in [sudo]" },
		{ "[sudo]\nsecure_path = /bin:\n", "invalid secure_path in [sudo]" },
		{ "[sudo]\nsecure_path =\n", "invalid secure_path in [sudo]" },
		{ "[sudo]\ntimestamp_dir = run/ts\n", "is not an absolute path" },
		{ "[sudo]\ntimestamp_timeout = -1\n", "invalid timestamp_timeout in [sudo]" },
		{ "[sudo]\ntimestamp_timeout = 5\n", "add a unit" },
	};

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_values_in_pam_section(void **state)
{
	static const struct bad_case cases[] = {
		{ "[pam]\ngate = alice\n", "'alice' must be all, user:NAME or group:NAME" },
		{ "[pam]\ngate = user:\n", "'' is not a valid user or group name" },
		{ "[pam]\ngate = group:bad name\n", "not a valid user or group name" },
		{ "[pam]\ngate = all, user:alice\n", "all must be the only item" },
		{ "[pam]\ngate = ALL\n", "must be all, user:NAME or group:NAME" },
		{ "[pam]\nexempt = all\n", "'all' must be user:NAME or group:NAME" },
		{ "[pam]\nexempt = user:root, root\n", "'root' must be user:NAME or group:NAME" },
	};

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_values_in_role_section(void **state)
{
	static const struct bad_case cases[] = {
		{ "[role r]\nrunas = -root\n",
		  "test.conf:2: invalid runas in [role r]: '-root' is not a valid user or group name" },
		{ "[role r]\nrunas_groups = a b\n", "not a valid user or group name" },
		{ "[role r]\ncommands = bin/ls\n", "must be ALL or an absolute path" },
		{ "[role r]\ncommands = ls -l\n", "must be ALL or an absolute path" },
		{ "[role r]\ncommands = ALL, /bin/ls\n", "ALL must be the only item" },
		{ "[role r]\ncommands = all\n", "must be ALL or an absolute path" },
		{ "[role r]\nservices = ssh d\n", "not a valid user or group name" },
		{ "[role r]\nhosts = web/1\n", "not a valid host name or pattern" },
		{ "[role r]\nrequesters = %\n", "'' is not a valid user or group name" },
		{ "[role r]\napprovers = %%ops\n", "not a valid user or group name" },
		{ "[role r]\ndefault_duration = 0\n", "invalid default_duration in [role r]" },
		{ "[role r]\nmax_duration = 1.5h\n", "fractions are not allowed" },
		{ "[role r]\napprovals = 0\n",
		  "test.conf:2: invalid approvals in [role r]: '0' is not a whole number of at least 1" },
		{ "[role r]\napprovals = two\n", "not a whole number" },
		{ "[role r]\napprovals = -1\n", "not a whole number" },
		{ "[role r]\napprovals = 1.5\n", "not a whole number" },
		{ "[role r]\napprovals =\n", "not a whole number" },
		{ "[role r]\napprovals = 99999999999\n", "not a whole number" },
		{ "[role r]\nreason_pattern = (INC\n", "not a valid extended regular expression" },
		{ "[role r]\nreason_pattern = [a-\n", "not a valid extended regular expression" },
		/* Repetition of a repetition multiplies glibc's compiled size. */
		{ "[role r]\nreason_pattern = a++\n", "repeats a repetition" },
		{ "[role r]\nreason_pattern = a*?\n", "repeats a repetition" },
		{ "[role r]\nreason_pattern = (a+)+\n", "repeats a repetition" },
		{ "[role r]\nreason_pattern = ((ab)*c)*\n", "repeats a repetition" },
		{ "[role r]\nreason_pattern = (a{9}){9}\n", "repeats a repetition" },
		{ "[role r]\nreason_pattern = a{9}{9}\n", "repeats a repetition" },
		{ "[role r]\nauthenticate = sometimes\n", "not a yes/no value" },
		{ "[role r]\nrequest_ttl = 1w\n", "unknown unit 'w'" },
	};

	(void)state;
	run_bad_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_reason_pattern_bounds(void **state)
{
	static const char *const accepted[] = {
		"^INC-[0-9]{4,} ",
		"^(INC|CHG)-[0-9]+",
		"[+*?]+x",
		"\\++",
		"(ab)+(cd)*",
		"[[:digit:]]+[]+]?",
	};
	char text[600], pattern[300];
	jit_config *config = NULL;
	jit_error error;

	(void)state;
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		snprintf(text, sizeof(text), "[role r]\nreason_pattern = %s\n", accepted[i]);
		print_message("pattern %s\n", accepted[i]);
		assert_int_equal(jit_config_parse("test.conf", text, &config, &error), JIT_OK);
		jit_config_free(config);
	}

	/* Too long: inih's line limit already rejects it before the
	 * pattern's own 256-byte limit would. */
	memset(pattern, 'a', 257);
	pattern[257] = '\0';
	snprintf(text, sizeof(text), "[role r]\nreason_pattern = %s\n", pattern);
	assert_int_equal(jit_config_parse("test.conf", text, &config, &error), JIT_ERR_CONFIG);
	assert_non_null(strstr(error.message, "test.conf:2"));
}

static void test_unknown_key_names_file_and_line(void **state)
{
	(void)state;
	assert_rejected("[jit]\nstore = /x\nfoo = 1\n",
			"test.conf:3: unknown key 'foo' in section [jit]");
	assert_rejected("[role r]\nrunas = root\n\nrun_as = x\n",
			"test.conf:4: unknown key 'run_as' in section [role r]");
	assert_rejected("[sudo]\nstore = /x\n",
			"test.conf:2: unknown key 'store' in section [sudo]");
}

static void test_unknown_section(void **state)
{
	(void)state;
	assert_rejected("[jit]\nstore = /x\n[bogus]\nkey = 1\n",
			"test.conf:3: unknown section [bogus]");
	/* An empty section is never seen by the key handler. */
	assert_rejected("[bogus]\n", "test.conf:1: unknown section [bogus]");
	assert_rejected("[roles x]\n", "unknown section [roles x]");
	assert_rejected("[Jit]\n", "unknown section [Jit]");
}

static void test_key_outside_section(void **state)
{
	(void)state;
	assert_rejected("store = /x\n", "test.conf:1: key 'store' is outside any section");
}

static void test_duplicates_rejected(void **state)
{
	(void)state;
	assert_rejected("[jit]\nstore = /a\nstore = /b\n",
			"test.conf:3: duplicate key 'store' in section [jit]");
	assert_rejected("[jit]\nstore = /a\n[sudo]\n[jit]\n",
			"test.conf:4: duplicate section [jit]");
	assert_rejected("[role a]\nrunas = root\n[role b]\n[role a]\n",
			"test.conf:4: duplicate section [role a]");
	assert_rejected("[role a]\nrunas = x\nrunas = y\n", "duplicate key 'runas'");
}

static void test_role_names_checked(void **state)
{
	(void)state;
	assert_rejected("[role]\n", "test.conf:1: role section has no name");
	assert_rejected("[role   ]\n", "role section has no name");
	assert_rejected("[role a b]\n", "invalid role name 'a b'");
	assert_rejected("[role -x]\n", "invalid role name '-x'");
	assert_rejected("[role ..]\n", "invalid role name '..'");
	assert_rejected("[role abcdefghijabcdefghijabcdefghij123]\n", "invalid role name");
}

static void test_role_max_above_global(void **state)
{
	(void)state;
	assert_rejected("[jit]\nmax_duration = 8h\n[role r]\nmax_duration = 9h\n",
			"test.conf:4: max_duration 9h in [role r] is above the global max_duration of 8h");
	/* The global cap may come after the role. */
	assert_rejected("[role r]\nmax_duration = 2h\n[jit]\nmax_duration = 1h\n",
			"test.conf:2: max_duration 2h in [role r] is above the global max_duration of 1h");
	/* The default global cap is 8h. */
	assert_rejected("[role r]\nmax_duration = 1d\n", "above the global max_duration of 8h");
}

static void test_role_default_above_max(void **state)
{
	jit_config *config;

	(void)state;
	assert_rejected("[role r]\ndefault_duration = 3h\nmax_duration = 2h\n",
			"test.conf:2: default_duration 3h in [role r] is above its max_duration of 2h");
	assert_rejected("[jit]\nmax_duration = 1h\n[role r]\ndefault_duration = 2h\n",
			"test.conf:4: default_duration 2h in [role r] is above its max_duration of 1h");

	config = parse_ok("[role r]\ndefault_duration = 2h\nmax_duration = 2h\n");
	assert_int_equal(config->roles[0].default_duration, 7200);
	jit_config_free(config);
}

static void test_long_line_rejected(void **state)
{
	char text[1200];
	char value[1001];

	(void)state;
	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';

	snprintf(text, sizeof(text), "[role r]\nreason_pattern = %s\n", value);
	assert_rejected(text, "test.conf:2: line is 1017 bytes long, above the limit of");

	/* A tail that inih would read as a comment must not hide the cut. */
	snprintf(text, sizeof(text), "[role r]\nreason_pattern = ^a%.*s ;x\n", 300, value);
	assert_rejected(text, "test.conf:2: line is");

	snprintf(text, sizeof(text), "[jit]\n; %s\n", value);
	assert_rejected(text, "test.conf:2: line is");
}

static void test_line_at_limit_accepted(void **state)
{
	const size_t limit = INI_MAX_LINE - 2;
	const char *key = "reason_pattern = ";
	char text[600], value[512];
	size_t value_length = limit - strlen(key);
	jit_config *config;

	(void)state;
	memset(value, 'y', value_length);
	value[value_length] = '\0';

	snprintf(text, sizeof(text), "[role r]\n%s%s\n", key, value);
	config = parse_ok(text);
	assert_int_equal(strlen(config->roles[0].reason_pattern), value_length);
	jit_config_free(config);

	snprintf(text, sizeof(text), "[role r]\n%s%sy\n", key, value);
	assert_rejected(text, "above the limit of");
}

static void test_list_continues_on_indented_lines(void **state)
{
	static const char *const commands[] = { "/usr/bin/a", "/usr/bin/b", "/usr/bin/c" };
	static const char *const approvers[] = { "alice", "%ops" };
	jit_config *config;

	(void)state;
	config = parse_ok("[role r]\n"
			  "commands = /usr/bin/a,\n"
			  "    /usr/bin/b,   ; a comment\n"
			  "\t/usr/bin/c\n"
			  "approvers =\n"
			  "  alice\n"
			  "  %ops\n");
	assert_list(&config->roles[0].commands, commands, 3);
	assert_list(&config->roles[0].approvers, approvers, 2);
	jit_config_free(config);
}

static void test_indented_scalar_rejected(void **state)
{
	(void)state;
	assert_rejected("[jit]\nstore = /var/lib\n  /jit\n",
			"test.conf:3: this indented line continues the value of 'store' in [jit]");
	/* inih reads an indented key line as a continuation too. */
	assert_rejected("[jit]\nstore = /x\n  issuer_key = /y\n",
			"continues the value of 'store'");
	assert_rejected("[role r]\nrunas = a,\n  -b\n",
			"test.conf:3: invalid runas in [role r]: '-b'");
	assert_rejected("[role r]\ncommands = ALL,\n  /bin/ls\n",
			"test.conf:3: invalid commands in [role r]: ALL must be the only item");
}

static void test_indented_key_after_section_accepted(void **state)
{
	jit_config *config;

	(void)state;
	config = parse_ok("[jit]\n  store = /x\n[sudo]\n\tauthenticate = no\n");
	assert_string_equal(config->store, "/x");
	assert_false(config->sudo_authenticate);
	jit_config_free(config);
}

static void test_inline_comments(void **state)
{
	jit_config *config;

	(void)state;
	config = parse_ok("; a comment\n"
			  "# another\n"
			  "[jit] ; the main section\n"
			  "store = /x ; trailing\n"
			  "   ; indented comment\n"
			  "hostname = web1 ;\n");
	assert_string_equal(config->store, "/x");
	jit_config_free(config);

	/* ';' only starts a comment after a blank. */
	assert_rejected("[jit]\nhostname = web1;x\n", "'web1;x' is not a valid host name");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	assert_rejected("[jit]\nstore\n", "test.conf:2: syntax error");
	assert_rejected("[jit\nstore = /x\n",
			"test.conf:1: section header has no closing ']'");
	assert_rejected("[jit] junk\n", "test.conf:1: unexpected text after the section header");
	/* The first error wins, whichever part of the parser found it. */
	assert_rejected("[jit]\nnovalue\nfoo = 1\n", "test.conf:2: syntax error");
	assert_rejected("[jit]\nfoo = 1\nnovalue\n", "test.conf:2: unknown key 'foo'");
}

static void test_line_endings_and_bom(void **state)
{
	jit_config *config;

	(void)state;
	config = parse_ok("\xEF\xBB\xBF[jit]\r\nstore = /x\r\nhostname = h\r\n[sudo]\r\nauthenticate = no");
	assert_string_equal(config->store, "/x");
	assert_string_equal(config->hostname, "h");
	assert_false(config->sudo_authenticate);
	jit_config_free(config);
}

static void test_empty_lists_and_pattern(void **state)
{
	jit_config *config;

	(void)state;
	config = parse_ok("[pam]\ngate =\nexempt =\n"
			  "[role r]\nservices =\ncommands =\nreason_pattern =\n");
	assert_int_equal(config->gate.count, 0);
	assert_int_equal(config->exempt.count, 0);
	assert_int_equal(config->roles[0].services.count, 0);
	assert_int_equal(config->roles[0].commands.count, 0);
	assert_null(config->roles[0].reason_pattern);
	jit_config_free(config);
}

static void test_text_too_large(void **state)
{
	size_t size = JIT_CONFIG_MAX_SIZE + 1;
	char *text = malloc(size + 1);
	jit_config *config = NULL;
	jit_error error;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', size);
	text[size] = '\0';
	assert_int_equal(jit_config_parse("test.conf", text, &config, &error),
			 JIT_ERR_TOO_LARGE);
	assert_null(config);
	free(text);
}

static void test_find_role(void **state)
{
	jit_config *config = parse_ok("[role a]\n[role b]\nrunas = x\n");

	(void)state;
	assert_int_equal(config->role_count, 2);
	assert_string_equal(jit_config_find_role(config, "a")->name, "a");
	assert_string_equal(jit_config_find_role(config, "b")->name, "b");
	assert_null(jit_config_find_role(config, "c"));
	assert_null(jit_config_find_role(config, NULL));
	assert_null(jit_config_find_role(NULL, "a"));
	jit_config_free(config);
	jit_config_free(NULL);
}

static void test_role_authenticates(void **state)
{
	jit_config *config;

	(void)state;
	config = parse_ok("[role quiet]\nauthenticate = no\n"
			  "[role loud]\nauthenticate = yes\n"
			  "[role plain]\n");
	assert_false(jit_config_role_authenticates(config, "quiet"));
	assert_true(jit_config_role_authenticates(config, "loud"));
	assert_true(jit_config_role_authenticates(config, "plain"));
	assert_true(jit_config_role_authenticates(config, "missing"));
	jit_config_free(config);

	config = parse_ok("[sudo]\nauthenticate = no\n"
			  "[role loud]\nauthenticate = yes\n[role plain]\n");
	assert_true(jit_config_role_authenticates(config, "loud"));
	assert_false(jit_config_role_authenticates(config, "plain"));
	assert_false(jit_config_role_authenticates(config, NULL));
	jit_config_free(config);

	assert_true(jit_config_role_authenticates(NULL, "loud"));
}

/* Files for the load tests live in a fresh folder per test. */
static int make_folder(void **state)
{
	*state = test_mkdtemp();
	return 0;
}

static int remove_folder(void **state)
{
	test_rmtree(*state);
	free(*state);
	return 0;
}

static jit_err load(const char *path, jit_error *error)
{
	jit_config *config = NULL;
	jit_err r;

	jit_error_clear(error);
	r = jit_config_load(path, &config, error);
	if (r == JIT_OK)
		assert_non_null(config);
	else
		assert_null(config);
	jit_config_free(config);
	return r;
}

static void require_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void test_load_safe_file(void **state)
{
	char *path = test_write_file(*state, "jit.conf", example, 0644);
	jit_config *config = NULL;
	jit_error error;

	require_root();
	assert_int_equal(jit_config_load(path, &config, &error), JIT_OK);
	assert_string_equal(config->path, path);
	assert_int_equal(config->role_count, 1);
	jit_config_free(config);
	free(path);
}

static void test_load_world_writable_rejected(void **state)
{
	char *path = test_write_file(*state, "jit.conf", example, 0666);
	char expected[512];
	jit_error error;

	require_root();
	assert_int_equal(load(path, &error), JIT_ERR_UNSAFE_FILE);
	snprintf(expected, sizeof(expected),
		 "%s is group- or world-writable (mode 0666); run chmod go-w", path);
	assert_non_null(strstr(error.message, expected));

	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(load(path, &error), JIT_ERR_UNSAFE_FILE);
	free(path);
}

static void test_load_foreign_owner_rejected(void **state)
{
	char *path = test_write_file(*state, "jit.conf", example, 0644);
	jit_error error;
	int fd;

	require_root();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);

	assert_int_equal(load(path, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "is owned by uid 65534, not root"));
	free(path);
}

static void test_load_symlink_rejected(void **state)
{
	char *path = test_write_file(*state, "real.conf", example, 0644);
	char *link = NULL;
	jit_error error;

	require_root();
	assert_true(asprintf(&link, "%s/jit.conf", (char *)*state) > 0);
	assert_int_equal(symlink(path, link), 0);

	assert_int_equal(load(link, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "is a symbolic link"));
	free(link);
	free(path);
}

static void test_load_special_files_rejected(void **state)
{
	char *fifo = NULL;
	jit_error error;

	require_root();
	assert_int_equal(load(*state, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "is not a regular file"));

	/* A FIFO must not block the open. */
	assert_true(asprintf(&fifo, "%s/fifo", (char *)*state) > 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(load(fifo, &error), JIT_ERR_UNSAFE_FILE);
	free(fifo);
}

static void test_load_too_large_rejected(void **state)
{
	size_t size = JIT_CONFIG_MAX_SIZE + 1;
	char *text = malloc(size + 1);
	char *path;
	jit_error error;

	require_root();
	assert_non_null(text);
	memset(text, '\n', size);
	text[size] = '\0';
	path = test_write_file(*state, "jit.conf", text, 0644);

	assert_int_equal(load(path, &error), JIT_ERR_TOO_LARGE);
	assert_non_null(strstr(error.message, "is larger than 65536 bytes"));

	/* Exactly at the limit is fine. */
	text[size - 1] = '\0';
	free(path);
	path = test_write_file(*state, "jit.conf", text, 0644);
	assert_int_equal(load(path, &error), JIT_OK);
	free(path);
	free(text);
}

static void test_load_nul_byte_rejected(void **state)
{
	static const char nul_text[] = "[jit]\nstore = /x\0\nfoo = 1\n";
	char *path = NULL;
	jit_error error;
	int fd;

	require_root();
	assert_true(asprintf(&path, "%s/jit.conf", (char *)*state) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, nul_text, sizeof(nul_text) - 1),
			 (ssize_t)sizeof(nul_text) - 1);
	close(fd);

	assert_int_equal(load(path, &error), JIT_ERR_CONFIG);
	assert_non_null(strstr(error.message, "NUL byte"));
	free(path);
}

static void test_load_missing_file(void **state)
{
	char *path = NULL;
	jit_error error;

	assert_true(asprintf(&path, "%s/missing.conf", (char *)*state) > 0);
	assert_int_equal(load(path, &error), JIT_ERR_NOT_FOUND);
	assert_non_null(strstr(error.message, path));
	free(path);
}

static void test_load_reports_file_and_line(void **state)
{
	char *path = test_write_file(*state, "jit.conf", "[jit]\n\nfoo = 1\n", 0644);
	char expected[512];
	jit_error error;

	require_root();
	assert_int_equal(load(path, &error), JIT_ERR_CONFIG);
	snprintf(expected, sizeof(expected), "%s:3: unknown key 'foo' in section [jit]", path);
	assert_string_equal(error.message, expected);
	free(path);
}

static int open_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_check_safe_secret(void **state)
{
	char *path = test_write_file(*state, "issuer.key", "secret", 0600);
	jit_error error;
	int fd;

	require_root();
	fd = open_file(path);
	assert_int_equal(jit_file_check_safe(fd, path, true, &error), JIT_OK);

	assert_int_equal(fchmod(fd, 0640), 0);
	assert_int_equal(jit_file_check_safe(fd, path, true, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "readable by group or others (mode 0640)"));
	assert_int_equal(jit_file_check_safe(fd, path, false, &error), JIT_OK);

	assert_int_equal(fchmod(fd, 0604), 0);
	assert_int_equal(jit_file_check_safe(fd, path, true, &error), JIT_ERR_UNSAFE_FILE);

	/* Exec bits do not matter. */
	assert_int_equal(fchmod(fd, 0711), 0);
	assert_int_equal(jit_file_check_safe(fd, path, true, &error), JIT_OK);

	assert_int_equal(fchmod(fd, 0602), 0);
	assert_int_equal(jit_file_check_safe(fd, path, true, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "world-writable (mode 0602)"));
	close(fd);
	free(path);
}

static void test_check_safe_owner(void **state)
{
	char *path = test_write_file(*state, "trusted.pub", "public", 0644);
	jit_error error;
	int fd;

	require_root();
	fd = open_file(path);
	assert_int_equal(jit_file_check_safe(fd, path, false, &error), JIT_OK);
	assert_int_equal(fchown(fd, 1, 0), 0);
	assert_int_equal(jit_file_check_safe(fd, path, false, &error), JIT_ERR_UNSAFE_FILE);
	assert_non_null(strstr(error.message, "owned by uid 1, not root"));
	close(fd);
	free(path);
}

static void test_check_safe_folder_rejected(void **state)
{
	jit_error error;
	int fd;

	fd = open(*state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(jit_file_check_safe(fd, *state, false, &error), JIT_ERR_UNSAFE_FILE);
	close(fd);
}

static void assert_gated(const char *text, const char *user, bool expected)
{
	jit_config *config = parse_ok(text);
	jit_error error;
	bool gated = !expected;

	jit_error_clear(&error);
	if (jit_config_user_is_gated(config, user, &gated, &error) != JIT_OK)
		fail_msg("gating %s failed: %s", user, error.message);
	if (gated != expected)
		fail_msg("%s should %sbe gated by:\n%s", user,
			 expected ? "" : "not ", text);
	jit_config_free(config);
}

static void test_gating_defaults(void **state)
{
	(void)state;
	/* No account on a stock host is in jit-gated, and root is exempt. */
	assert_gated("", "root", false);
	assert_gated("", "daemon", false);
	assert_gated("", "nobody", false);
}

static void test_gating_all(void **state)
{
	static const char text[] = "[pam]\ngate = all\nexempt = user:root\n";

	(void)state;
	assert_gated(text, "root", false);
	assert_gated(text, "daemon", true);
	assert_gated(text, "nobody", true);
}

static void test_gating_users_and_groups(void **state)
{
	(void)state;
	assert_gated("[pam]\ngate = user:daemon\n", "daemon", true);
	assert_gated("[pam]\ngate = user:daemon\n", "nobody", false);
	/* nogroup is nobody's primary group. */
	assert_gated("[pam]\ngate = group:nogroup\n", "nobody", true);
	assert_gated("[pam]\ngate = group:nogroup\n", "daemon", false);
	assert_gated("[pam]\ngate = group:daemon, group:nogroup\n", "daemon", true);
	assert_gated("[pam]\ngate = group:root\nexempt =\n", "root", true);
	assert_gated("[pam]\ngate = group:no-such-group-here\n", "daemon", false);
	assert_gated("[pam]\ngate =\n", "daemon", false);
}

static void test_gating_exempt_wins(void **state)
{
	(void)state;
	assert_gated("[pam]\ngate = user:daemon\nexempt = user:daemon\n", "daemon", false);
	assert_gated("[pam]\ngate = all\nexempt = group:daemon\n", "daemon", false);
	assert_gated("[pam]\ngate = all\nexempt = group:daemon\n", "nobody", true);
	assert_gated("[pam]\ngate = all\nexempt = group:root\n", "root", false);
	assert_gated("[pam]\ngate = group:root\nexempt = user:daemon\n", "root", true);
}

static void test_gating_unknown_user(void **state)
{
	jit_config *config = parse_ok("[pam]\ngate = all\nexempt =\n");
	jit_error error;
	bool gated = true;

	(void)state;
	assert_int_equal(jit_config_user_is_gated(config, "no-such-user-jit", &gated, &error),
			 JIT_ERR_NOT_FOUND);
	assert_int_equal(error.code, JIT_ERR_NOT_FOUND);
	assert_non_null(strstr(error.message, "unknown user 'no-such-user-jit'"));
	jit_config_free(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_parses),
		cmocka_unit_test(test_empty_text_gives_defaults),
		cmocka_unit_test(test_every_key_accepts_good_values),
		cmocka_unit_test(test_commands_with_arguments),
		cmocka_unit_test(test_bad_values_in_jit_section),
		cmocka_unit_test(test_bad_values_in_sudo_section),
		cmocka_unit_test(test_bad_values_in_pam_section),
		cmocka_unit_test(test_bad_values_in_role_section),
		cmocka_unit_test(test_reason_pattern_bounds),
		cmocka_unit_test(test_unknown_key_names_file_and_line),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_key_outside_section),
		cmocka_unit_test(test_duplicates_rejected),
		cmocka_unit_test(test_role_names_checked),
		cmocka_unit_test(test_role_max_above_global),
		cmocka_unit_test(test_role_default_above_max),
		cmocka_unit_test(test_long_line_rejected),
		cmocka_unit_test(test_line_at_limit_accepted),
		cmocka_unit_test(test_list_continues_on_indented_lines),
		cmocka_unit_test(test_indented_scalar_rejected),
		cmocka_unit_test(test_indented_key_after_section_accepted),
		cmocka_unit_test(test_inline_comments),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_line_endings_and_bom),
		cmocka_unit_test(test_empty_lists_and_pattern),
		cmocka_unit_test(test_text_too_large),
		cmocka_unit_test(test_find_role),
		cmocka_unit_test(test_role_authenticates),
		cmocka_unit_test_setup_teardown(test_load_safe_file, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_world_writable_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_foreign_owner_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_symlink_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_special_files_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_too_large_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_nul_byte_rejected, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_missing_file, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_load_reports_file_and_line, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_check_safe_secret, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_check_safe_owner, make_folder, remove_folder),
		cmocka_unit_test_setup_teardown(test_check_safe_folder_rejected, make_folder, remove_folder),
		cmocka_unit_test(test_gating_defaults),
		cmocka_unit_test(test_gating_all),
		cmocka_unit_test(test_gating_users_and_groups),
		cmocka_unit_test(test_gating_exempt_wins),
		cmocka_unit_test(test_gating_unknown_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
