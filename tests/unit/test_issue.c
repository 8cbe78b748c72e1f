/* Grant building from roles, the command syntax, reason patterns, role
 * suggestions, grant states and sudo's timeout. */
#include "testlib.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1800000000LL

static const char *config_text =
	"[jit]\n"
	"store = /var/lib/jit-test\n"
	"hostname = web1\n"
	"max_duration = 8h\n"
	"[role db-admin]\n"
	"runas = postgres\n"
	"commands = /usr/bin/psql, /usr/bin/pg_dump --all\n"
	"max_duration = 2h\n"
	"default_duration = 30m\n"
	"reason_pattern = ^INC-[0-9]+ \n"
	"approvers = root\n"
	"[role ssh]\n"
	"services = sshd\n"
	"approvers = root\n";

static int setup(void **state)
{
	jit_config *config = NULL;
	jit_error error;

	if (jit_config_parse("test.conf", config_text, &config, &error) != JIT_OK) {
		print_error("config: %s\n", error.message);
		return -1;
	}
	*state = config;
	return 0;
}

static int teardown(void **state)
{
	jit_config_free(*state);
	return 0;
}

static jit_err build(const jit_config *config, jit_grant_spec *spec,
		     jit_grant **grant, jit_error *error)
{
	if (spec->user == NULL)
		spec->user = "alice";
	if (spec->duration == NULL)
		spec->duration = "1h";
	if (spec->reason == NULL)
		spec->reason = "INC-42 disk full";
	if (spec->requester == NULL)
		spec->requester = "root";
	return jit_grant_build(config, spec, NOW, grant, error);
}

static void build_uses_role_defaults(void **state)
{
	jit_grant_spec spec = { .role = "db-admin" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(build(*state, &spec, &grant, &error), JIT_OK);
	assert_string_equal(grant->role, "db-admin");
	assert_string_equal(grant->user, "alice");
	assert_int_equal(grant->runas_users.count, 1);
	assert_string_equal(grant->runas_users.items[0], "postgres");
	assert_int_equal(grant->command_count, 2);
	assert_string_equal(grant->commands[0].path, "/usr/bin/psql");
	assert_false(grant->commands[0].args_given);
	assert_true(grant->commands[1].args_given);
	assert_string_equal(grant->commands[1].args.items[0], "--all");
	assert_int_equal(grant->hosts.count, 1);
	assert_string_equal(grant->hosts.items[0], "web1");
	assert_int_equal(grant->not_before, NOW);
	assert_int_equal(grant->not_after, NOW + 3600);
	assert_int_equal(grant->issued_at, NOW);
	assert_string_equal(grant->request_id, "");
	jit_grant_free(grant);
}

static void build_caps_at_role_max(void **state)
{
	jit_grant_spec spec = { .role = "db-admin", .duration = "3h" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_RANGE);
	assert_null(grant);
	assert_non_null(strstr(error.message, "2h"));

	spec.duration = "2h";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_OK);
	jit_grant_free(grant);
}

static void build_caps_direct_at_global_max(void **state)
{
	jit_strlist commands = { 0 };
	jit_grant_spec spec = { .duration = "9h", .commands = &commands };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(jit_strlist_append(&commands, "/usr/bin/id"), JIT_OK);
	assert_int_not_equal(build(*state, &spec, &grant, &error), JIT_OK);
	assert_null(grant);

	spec.duration = "8h";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_OK);
	assert_string_equal(grant->role, JIT_DIRECT_ROLE);
	assert_string_equal(grant->runas_users.items[0], "root");
	jit_grant_free(grant);
	jit_strlist_clear(&commands);
}

static void build_keeps_inside_role(void **state)
{
	jit_strlist list = { 0 };
	jit_grant_spec spec = { .role = "db-admin" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(jit_strlist_append(&list, "/usr/bin/bash"), JIT_OK);
	spec.commands = &list;
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "/usr/bin/bash"));
	jit_strlist_clear(&list);

	/* Exact arguments the role fixes cannot be widened. */
	assert_int_equal(jit_strlist_append(&list, "/usr/bin/pg_dump"), JIT_OK);
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	jit_strlist_clear(&list);

	assert_int_equal(jit_strlist_append(&list, "/usr/bin/psql -c select"), JIT_OK);
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_OK);
	jit_grant_free(grant);
	jit_strlist_clear(&list);

	spec.commands = NULL;
	assert_int_equal(jit_strlist_append(&list, "root"), JIT_OK);
	spec.runas = &list;
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "runas"));
	jit_strlist_clear(&list);

	spec.runas = NULL;
	assert_int_equal(jit_strlist_append(&list, "sshd"), JIT_OK);
	spec.services = &list;
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	jit_strlist_clear(&list);
}

static void build_checks_reason(void **state)
{
	jit_grant_spec spec = { .role = "db-admin", .reason = "because" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "reason_pattern"));

	spec.reason = "";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "empty"));
}

static void build_rejects_bad_input(void **state)
{
	jit_strlist services = { 0 };
	jit_grant_spec spec = { .services = &services };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(jit_strlist_append(&services, "sshd"), JIT_OK);

	spec.role = "no-such-role";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_NOT_FOUND);
	spec.role = NULL;

	spec.user = "-alice";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	spec.user = "alice";

	spec.start = "+1h";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_OK);
	assert_int_equal(grant->not_before, NOW + 3600);
	assert_int_equal(grant->not_after, NOW + 7200);
	jit_grant_free(grant);

	spec.start = "2020-01-01T00:00:00Z";
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_RANGE);
	assert_non_null(strstr(error.message, "past"));
	spec.start = NULL;

	/* Nothing to allow at all. */
	jit_strlist_clear(&services);
	assert_int_equal(build(*state, &spec, &grant, &error), JIT_ERR_INVALID);
	assert_null(grant);
}

static void command_spec_syntax(void **state)
{
	jit_grant *grant = NULL;
	jit_error error;

	(void)state;
	assert_int_equal(jit_grant_new(&grant, NULL), JIT_OK);

	assert_int_equal(jit_grant_add_command_spec(grant, "ALL", &error), JIT_OK);
	assert_int_equal(jit_grant_add_command_spec(grant, "/usr/bin/id", &error), JIT_OK);
	assert_int_equal(jit_grant_add_command_spec(grant, "/usr/bin/systemctl restart nginx",
						    &error), JIT_OK);
	assert_int_equal(jit_grant_add_command_spec(grant, "/usr/bin/true \"\"", &error),
			 JIT_OK);
	assert_int_equal(grant->command_count, 4);
	assert_false(grant->commands[1].args_given);
	assert_true(grant->commands[2].args_given);
	assert_int_equal(grant->commands[2].args.count, 2);
	assert_true(grant->commands[3].args_given);
	assert_int_equal(grant->commands[3].args.count, 0);

	assert_int_equal(jit_grant_add_command_spec(grant, "usr/bin/id", &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_grant_add_command_spec(grant, "", &error), JIT_ERR_INVALID);
	assert_int_equal(jit_grant_add_command_spec(grant, "ALL x", &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_grant_add_command_spec(grant, "/usr/bin/id \"\" -u", &error),
			 JIT_ERR_INVALID);
	assert_int_equal(grant->command_count, 4);
	jit_grant_free(grant);
}

static void suggest_role_by_scope(void **state)
{
	const jit_config *config = *state;
	jit_access login = { .kind = JIT_ACCESS_SERVICE, .user = "alice",
			     .service = "sshd" };
	jit_access command = { .kind = JIT_ACCESS_COMMAND, .user = "alice",
			       .command = "/usr/bin/psql", .runas_user = "postgres" };
	jit_decision decision = { 0 };
	const jit_role *role;

	role = jit_config_suggest_role(config, &login, NULL);
	assert_non_null(role);
	assert_string_equal(role->name, "ssh");

	role = jit_config_suggest_role(config, &command, &decision);
	assert_non_null(role);
	assert_string_equal(role->name, "db-admin");

	command.command = "/usr/bin/vi";
	assert_null(jit_config_suggest_role(config, &command, &decision));

	/* The closest grant's role is named only when it covers the access. */
	decision.has_grant = true;
	strcpy(decision.role, "ssh");
	assert_null(jit_config_suggest_role(config, &command, &decision));
	role = jit_config_suggest_role(config, &login, &decision);
	assert_non_null(role);
	assert_string_equal(role->name, "ssh");
}

static void request_hint_text(void **state)
{
	const jit_config *config = *state;
	jit_access command = { .kind = JIT_ACCESS_COMMAND, .user = "alice",
			       .command = "/usr/bin/psql", .runas_user = "postgres" };
	jit_access login = { .kind = JIT_ACCESS_SERVICE, .user = "carol",
			     .service = "sshd" };
	char hint[512];

	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --role db-admin --for 30m --reason \"...\"");

	jit_request_hint(config, &login, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant carol --role ssh --for 30m --reason \"...\"");

	command.command = "/usr/bin/vi";
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --for 30m --reason \"...\" --runas postgres --command '/usr/bin/vi \"\"'");

	/* The exact arguments are named, so the grant allows only this. */
	command.argc = 2;
	command.argv = (char *const[]){ "-R", "/etc/hosts", NULL };
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --for 30m --reason \"...\" --runas postgres --command '/usr/bin/vi -R /etc/hosts'");

	/* Arguments the spec syntax cannot state leave the path alone. */
	command.argv = (char *const[]){ "-R", "/tmp/a file", NULL };
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --for 30m --reason \"...\" --runas postgres --command /usr/bin/vi (this allows any arguments)");

	/* A shell run as a command runs anything, as sudo -s does. */
	command.command = "/bin/sh";
	command.argv = (char *const[]){ "-c", "systemctl", NULL };
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --for 30m --reason \"...\" --runas postgres --command ALL (a shell runs any command; run the command itself to need less)");

	command.command = NULL;
	command.argc = 0;
	command.argv = NULL;
	command.shell = true;
	command.runas_user = NULL;
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant alice --for 30m --reason \"...\" --command ALL (a shell runs any command; run the command itself to need less)");

	/* A short buffer is cut, never overrun. */
	jit_request_hint(config, &command, NULL, hint, 16);
	assert_int_equal(strlen(hint), 15);
}

/* A user among a covering role's requesters is told to request it; the
 * hint looks the user up, so these use root, which every host has. */
static void request_hint_names_request(void **state)
{
	static const char *text =
		"[jit]\nhostname = web1\n"
		"[role admin]\ncommands = /usr/bin/psql\napprovers = root\n"
		"[role ops]\ncommands = /usr/bin/psql\nrequesters = %root\n"
		"approvers = nobody\ndefault_duration = 15m\n";
	jit_access command = { .kind = JIT_ACCESS_COMMAND, .user = "root",
			       .command = "/usr/bin/psql" };
	jit_config *config = NULL;
	jit_error error;
	char hint[512];

	(void)state;
	assert_int_equal(jit_config_parse("test.conf", text, &config, &error), JIT_OK);
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "request a grant: jitctl request --role ops --for 15m --reason \"...\"");

	/* A user who may request no covering role asks an administrator. */
	command.user = "no-such-user-jit";
	jit_request_hint(config, &command, NULL, hint, sizeof(hint));
	assert_string_equal(hint, "ask an administrator for a grant: jitctl grant no-such-user-jit --role admin --for 30m --reason \"...\"");
	jit_config_free(config);
}

static void grant_states(void **state)
{
	const jit_config *config = *state;
	jit_grant grant = { .not_before = NOW, .not_after = NOW + 100 };

	assert_int_equal(jit_strlist_append(&grant.hosts, "web*"), JIT_OK);

	assert_int_equal(jit_grant_state_at(config, &grant, false, NOW * 1000),
			 JIT_STATE_ACTIVE);
	assert_int_equal(jit_grant_state_at(config, &grant, true, NOW * 1000),
			 JIT_STATE_REVOKED);
	assert_int_equal(jit_grant_state_at(config, &grant, false, (NOW + 100) * 1000),
			 JIT_STATE_EXPIRED);
	assert_int_equal(jit_grant_state_at(config, &grant, false, (NOW - 61) * 1000),
			 JIT_STATE_NOT_YET_VALID);
	assert_int_equal(jit_grant_state_at(config, &grant, false, (NOW - 60) * 1000),
			 JIT_STATE_ACTIVE);
	assert_string_equal(jit_grant_state_name(JIT_STATE_OTHER_HOST), "other-host");

	/* Times near the 64-bit limits neither overflow nor wrap. */
	grant.not_before = INT64_MIN;
	grant.not_after = INT64_MAX;
	assert_int_equal(jit_grant_state_at(config, &grant, false, NOW * 1000),
			 JIT_STATE_ACTIVE);
	jit_strlist_clear(&grant.hosts);
	assert_int_equal(jit_grant_state_at(config, &grant, false, NOW * 1000),
			 JIT_STATE_OTHER_HOST);
}

static void sudo_timeout_values(void **state)
{
	jit_decision decision = { .not_after = NOW + 30 };

	(void)state;
	assert_int_equal(jit_decision_timeout(&decision, NOW * 1000), 30);
	assert_int_equal(jit_decision_timeout(&decision, NOW * 1000 + 500), 30);
	assert_int_equal(jit_decision_timeout(&decision, NOW * 1000 + 1000), 29);
	assert_int_equal(jit_decision_timeout(&decision, (NOW + 29) * 1000), 1);
	/* 0.4 s left: 0 would mean "no limit" to sudo, so the caller denies. */
	assert_int_equal(jit_decision_timeout(&decision, (NOW + 30) * 1000 - 400), 0);
	assert_int_equal(jit_decision_timeout(&decision, (NOW + 31) * 1000), 0);

	decision.not_after = INT64_MAX;
	assert_int_equal(jit_decision_timeout(&decision, NOW * 1000), INT_MAX);
	decision.not_after = (int64_t)1 << 32;
	assert_int_equal(jit_decision_timeout(&decision, NOW * 1000), INT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(build_uses_role_defaults),
		cmocka_unit_test(build_caps_at_role_max),
		cmocka_unit_test(build_caps_direct_at_global_max),
		cmocka_unit_test(build_keeps_inside_role),
		cmocka_unit_test(build_checks_reason),
		cmocka_unit_test(build_rejects_bad_input),
		cmocka_unit_test(command_spec_syntax),
		cmocka_unit_test(suggest_role_by_scope),
		cmocka_unit_test(request_hint_text),
		cmocka_unit_test(request_hint_names_request),
		cmocka_unit_test(grant_states),
		cmocka_unit_test(sudo_timeout_values),
	};

	return cmocka_run_group_tests_name("issue", tests, setup, teardown);
}
