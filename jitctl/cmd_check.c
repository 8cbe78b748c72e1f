/* jitctl check: the decision sudo_jit or pam_jit would make, and why.
 * A check uses no grant and changes nothing, so it emits no event. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jitctl.h"

enum {
	OPT_SERVICE = CTL_OPT_FIRST,
	OPT_RUNAS,
	OPT_GROUP,
	OPT_SHELL,
};

typedef struct check_options {
	const char *user;
	const char *service;
	const char *runas;
	const char *group;
	bool shell;
	int command_index;   /* argv index of CMD, -1 when none */
} check_options;

static int check_option(jitctl *ctl, check_options *opts, int opt, char **argv)
{
	switch (opt) {
	case OPT_SERVICE:
		opts->service = optarg;
		return CTL_CONTINUE;
	case OPT_RUNAS:
		opts->runas = optarg;
		return CTL_CONTINUE;
	case OPT_GROUP:
		opts->group = optarg;
		return CTL_CONTINUE;
	case OPT_SHELL:
		opts->shell = true;
		return CTL_CONTINUE;
	case CTL_OPT_JSON:
		ctl->json = true;
		return CTL_CONTINUE;
	default:
		return ctl_common_option(ctl, opt, argv);
	}
}

/* Options stop at CMD, as with sudo, so "check alice ls -l" passes -l to
 * ls; "--" also ends them. getopt_long in return-in-order mode ("-")
 * hands over USER and CMD as they come. */
static int parse_check_options(jitctl *ctl, int argc, char **argv,
			       check_options *opts)
{
	static const struct option options[] = {
		{ "service", required_argument, NULL, OPT_SERVICE },
		{ "runas", required_argument, NULL, OPT_RUNAS },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "shell", no_argument, NULL, OPT_SHELL },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	opts->command_index = -1;
	while ((opt = getopt_long(argc, argv, "-:h", options, NULL)) != -1) {
		if (opt == 1 && opts->user == NULL) {
			opts->user = optarg;
			continue;
		}
		if (opt == 1) {
			opts->command_index = optind - 1;
			break;
		}
		r = check_option(ctl, opts, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}

	if (opts->command_index < 0 && opts->user == NULL && optind < argc)
		opts->user = argv[optind++];
	if (opts->command_index < 0 && optind < argc)
		opts->command_index = optind;

	if (opts->user == NULL)
		return ctl_usage_error(ctl, "missing USER");
	if (opts->service != NULL &&
	    (opts->command_index >= 0 || opts->shell || opts->runas != NULL ||
	     opts->group != NULL))
		return ctl_usage_error(ctl, "--service cannot be combined with a command, --shell, --runas or --group");
	if (opts->service == NULL && opts->command_index < 0 && !opts->shell)
		return ctl_usage_error(ctl, "give --service NAME, --shell or a command to check");
	return CTL_CONTINUE;
}

static void print_decision(const jit_decision *decision)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1] = "-";
	char expires[32];

	if (decision->has_grant)
		jit_grant_id_format(decision->grant_id, id);

	if (jit_decision_allowed(decision)) {
		output_time(decision->not_after, expires, sizeof(expires));
		printf("allow (grant %s, role %s, expires %s)\n", id,
		       decision->role, expires);
		return;
	}

	if (decision->detail[0] != '\0')
		printf("deny: %s: %s\n", jit_reason_name(decision->reason),
		       decision->detail);
	else
		printf("deny: %s\n", jit_reason_name(decision->reason));
}

static json_object *access_json(json_builder *b, const jit_access *access)
{
	json_object *object = json_object_new_object();
	json_object *args;

	if (object == NULL)
		return NULL;

	json_put(b, object, "user", json_object_new_string(access->user));
	json_put(b, object, "host", json_object_new_string(access->host));
	if (access->kind == JIT_ACCESS_SERVICE) {
		json_put(b, object, "service", json_object_new_string(access->service));
		return object;
	}

	if (access->command != NULL)
		json_put(b, object, "command", json_object_new_string(access->command));
	else
		json_put_null(b, object, "command");
	args = json_object_new_array();
	for (size_t i = 0; args != NULL && i < access->argc; i++)
		json_append(b, args, json_object_new_string(access->argv[i]));
	json_put(b, object, "args", args);
	json_put(b, object, "shell", json_object_new_boolean(access->shell));
	json_put(b, object, "runas_user", json_object_new_string(
		access->runas_user != NULL ? access->runas_user : "root"));
	if (access->runas_group != NULL)
		json_put(b, object, "runas_group",
			 json_object_new_string(access->runas_group));
	else
		json_put_null(b, object, "runas_group");
	return object;
}

/* Returns the decision as a JSON object, or NULL when out of memory. */
json_object *check_decision_json(const jit_access *access,
				 const jit_decision *decision)
{
	json_builder b = { .failed = false };
	json_object *object = json_object_new_object();
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	char expires[32];

	if (object == NULL)
		return NULL;

	json_put(&b, object, "decision", json_object_new_string(
		jit_decision_allowed(decision) ? "allow" : "deny"));
	json_put(&b, object, "reason",
		 json_object_new_string(jit_reason_name(decision->reason)));
	json_put(&b, object, "detail", json_object_new_string(decision->detail));
	json_put(&b, object, "access", access_json(&b, access));

	if (decision->has_grant) {
		jit_grant_id_format(decision->grant_id, id);
		output_time(decision->not_after, expires, sizeof(expires));
		json_put(&b, object, "grant_id", json_object_new_string(id));
		json_put(&b, object, "role", json_object_new_string(decision->role));
		json_put(&b, object, "expires", json_object_new_string(expires));
	}

	if (b.failed) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* Fills the command part of access as sudo_jit does: CMD resolved through
 * secure_path only, never the caller's PATH. */
static int resolve_command(const jitctl *ctl, const check_options *opts,
			   int argc, char **argv, jit_access *access,
			   char **path)
{
	jit_error error;

	access->kind = JIT_ACCESS_COMMAND;
	access->shell = opts->shell;
	access->runas_user = opts->runas;
	access->runas_group = opts->group;
	if (opts->command_index < 0)
		return CTL_EXIT_OK;

	jit_error_clear(&error);
	if (jit_command_resolve(argv[opts->command_index],
				ctl->config->secure_path, path, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	access->command = *path;
	access->argc = (size_t)(argc - opts->command_index - 1);
	access->argv = argv + opts->command_index + 1;
	return CTL_EXIT_OK;
}

static int check(const jitctl *ctl, const check_options *opts, int argc,
		 char **argv)
{
	jit_access access = {
		.user = opts->user,
		.host = ctl->config->hostname,
	};
	jit_decision decision;
	char *path = NULL;
	int r;

	if (!jit_valid_name(opts->user)) {
		ctl_error(ctl, "invalid user name \"%s\"", opts->user);
		return CTL_EXIT_FAIL;
	}

	if (opts->service != NULL) {
		access.kind = JIT_ACCESS_SERVICE;
		access.service = opts->service;
	} else {
		r = resolve_command(ctl, opts, argc, argv, &access, &path);
		if (r != CTL_EXIT_OK)
			return r;
	}

	memset(&decision, 0, sizeof(decision));
	jit_check(ctl->config, &access, ctl->now_ms, &decision);

	r = CTL_EXIT_OK;
	if (ctl->json)
		r = output_json(ctl, check_decision_json(&access, &decision));
	else
		print_decision(&decision);
	free(path);

	if (decision.reason == JIT_REASON_STORE_ERROR && geteuid() != 0)
		ctl_error(ctl, "the store is readable by root only, so this answer may be wrong; run jitctl check as root");

	if (r != CTL_EXIT_OK)
		return r;
	return jit_decision_allowed(&decision) ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* Prints a decision the broker returned, as print_decision does. */
static void print_response(json_object *check)
{
	const char *decision = ctl_response_string(check, "decision");
	const char *detail = ctl_response_string(check, "detail");

	if (strcmp(decision, "allow") == 0)
		printf("allow (grant %s, role %s, expires %s)\n",
		       ctl_response_string(check, "grant_id"),
		       ctl_response_string(check, "role"),
		       ctl_response_string(check, "expires"));
	else if (detail[0] != '\0')
		printf("deny: %s: %s\n", ctl_response_string(check, "reason"), detail);
	else
		printf("deny: %s\n", ctl_response_string(check, "reason"));
}

/* Without root the store is out of reach, so the broker decides; it
 * decides only for the caller's own account. */
static int check_through_broker(jitctl *ctl, const check_options *opts,
				int argc, char **argv)
{
	jit_broker_message message = {
		.op = JIT_BROKER_CHECK,
		.service = (char *)opts->service,
		.runas_user = (char *)opts->runas,
		.group = (char *)opts->group,
		.shell = opts->shell,
	};
	broker_reply reply = { 0 };
	json_object *check = NULL;
	char *self = NULL;
	int r;

	r = ctl_invoking_user(ctl, &self);
	if (r == CTL_EXIT_OK && strcmp(self, opts->user) != 0) {
		ctl_error(ctl, "only root checks the access of other users; check your own with jitctl check %s ...",
			  self);
		r = CTL_EXIT_FAIL;
	}
	for (int i = opts->command_index; r == CTL_EXIT_OK && i >= 0 && i < argc; i++)
		if (jit_strlist_append(&message.command, argv[i]) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			r = CTL_EXIT_FAIL;
		}
	if (r == CTL_EXIT_OK)
		r = ctl_broker_call(ctl, &message, &reply);
	if (r == CTL_EXIT_OK) {
		check = ctl_response_get(reply.response, "check");
		if (ctl->json)
			r = output_json(ctl, json_object_get(check));
		else
			print_response(check);
		if (r == CTL_EXIT_OK &&
		    strcmp(ctl_response_string(check, "decision"), "allow") != 0)
			r = CTL_EXIT_FAIL;
	}

	ctl_broker_finish(ctl, &reply);
	jit_strlist_clear(&message.command);
	free(self);
	return r;
}

int cmd_check(jitctl *ctl, int argc, char **argv)
{
	check_options opts = { 0 };
	int r;

	r = parse_check_options(ctl, argc, argv, &opts);
	if (r != CTL_CONTINUE)
		return r;

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	if (geteuid() != 0)
		return check_through_broker(ctl, &opts, argc, argv);
	return check(ctl, &opts, argc, argv);
}
