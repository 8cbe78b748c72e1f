/* jitctl grant: issue a grant directly, as root or as an approver of the
 * role through the broker. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jitctl.h"

enum {
	OPT_FOR = CTL_OPT_FIRST,
	OPT_REASON,
	OPT_ROLE,
	OPT_RUNAS,
	OPT_COMMAND,
	OPT_SERVICE,
	OPT_HOST,
	OPT_START,
};

typedef struct grant_options {
	const char *user;
	const char *duration;
	const char *reason;
	const char *role;
	const char *start;
	jit_strlist runas;
	jit_strlist commands;
	jit_strlist services;
	jit_strlist hosts;
} grant_options;

static void grant_options_clear(grant_options *opts)
{
	jit_strlist_clear(&opts->runas);
	jit_strlist_clear(&opts->commands);
	jit_strlist_clear(&opts->services);
	jit_strlist_clear(&opts->hosts);
}

/* Stores a single-valued option, rejecting a second occurrence. */
static int set_once(const jitctl *ctl, const char **field, const char *name,
		    const char *value)
{
	if (*field != NULL)
		return ctl_usage_error(ctl, "option --%s given more than once", name);
	*field = value;
	return CTL_CONTINUE;
}

static int append_option(const jitctl *ctl, jit_strlist *list, const char *value)
{
	if (jit_strlist_append(list, value) != JIT_OK) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}
	return CTL_CONTINUE;
}

static int grant_option(jitctl *ctl, grant_options *opts, int opt, char **argv)
{
	switch (opt) {
	case OPT_FOR:
		return set_once(ctl, &opts->duration, "for", optarg);
	case OPT_REASON:
		return set_once(ctl, &opts->reason, "reason", optarg);
	case OPT_ROLE:
		return set_once(ctl, &opts->role, "role", optarg);
	case OPT_START:
		return set_once(ctl, &opts->start, "start", optarg);
	case OPT_RUNAS:
		if (jit_strlist_split(&opts->runas, optarg) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			return CTL_EXIT_FAIL;
		}
		return CTL_CONTINUE;
	case OPT_COMMAND:
		return append_option(ctl, &opts->commands, optarg);
	case OPT_SERVICE:
		return append_option(ctl, &opts->services, optarg);
	case OPT_HOST:
		return append_option(ctl, &opts->hosts, optarg);
	default:
		return ctl_common_option(ctl, opt, argv);
	}
}

static int parse_grant_options(jitctl *ctl, int argc, char **argv,
			       grant_options *opts)
{
	static const struct option options[] = {
		{ "for", required_argument, NULL, OPT_FOR },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "runas", required_argument, NULL, OPT_RUNAS },
		{ "command", required_argument, NULL, OPT_COMMAND },
		{ "service", required_argument, NULL, OPT_SERVICE },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "start", required_argument, NULL, OPT_START },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		r = grant_option(ctl, opts, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}

	if (optind >= argc)
		return ctl_usage_error(ctl, "missing USER");
	opts->user = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	if (opts->duration == NULL && opts->role == NULL)
		return ctl_usage_error(ctl, "missing --for DURATION");
	if (opts->reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");
	if (opts->role == NULL && opts->commands.count == 0 &&
	    opts->services.count == 0)
		return ctl_usage_error(ctl, "a grant without --role needs at least one --command or --service");
	return CTL_CONTINUE;
}

/* The rules (role defaults and caps, the command syntax, the reason
 * pattern) are libjitcore's: jitctl only maps options onto a spec. */
static int build_grant(const jitctl *ctl, const grant_options *opts,
		       const char *invoker, jit_grant **grant)
{
	jit_strlist approvers = { 0 };
	jit_grant_spec spec = {
		.user = opts->user,
		.role = opts->role,
		.duration = opts->duration,
		.start = opts->start,
		.reason = opts->reason,
		.requester = invoker,
		.approvers = &approvers,
		.runas = &opts->runas,
		.commands = &opts->commands,
		.services = &opts->services,
		.hosts = &opts->hosts,
	};
	jit_error error;
	int r = CTL_EXIT_OK;

	jit_error_clear(&error);
	if (jit_strlist_append(&approvers, invoker) != JIT_OK) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
	} else if (jit_grant_build(ctl->config, &spec, ctl->now_ms / 1000, grant,
				   &error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
	}

	jit_strlist_clear(&approvers);
	return r;
}

/* Verifies the freshly signed blob before storing it, so nothing is stored
 * that this host would reject as malformed. A key missing from the trusted
 * keys is only a warning: the grant may be meant for other hosts. */
static int check_signed(const jitctl *ctl, const uint8_t *blob, size_t blob_len,
			const jit_issuer_key *key)
{
	jit_keyring *keys = NULL;
	jit_grant *verified = NULL;
	jit_error error;
	int r;

	r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_grant_verify(blob, blob_len, keys, &verified, &error) == JIT_OK) {
		r = CTL_EXIT_OK;
	} else if (error.code == JIT_ERR_UNKNOWN_KEY) {
		uint8_t id[JIT_KEY_ID_LEN];
		char hex[JIT_KEY_ID_HEX_LEN + 1];

		jit_issuer_key_id(key, id);
		jit_key_id_format(id, hex);
		ctl_warn(ctl, "%s does not trust issuer key %s, so this host will deny the grant; run jitctl init to add it",
			 ctl->config->trusted_keys, hex);
		r = CTL_EXIT_OK;
	} else {
		r = ctl_lib_error(ctl, &error);
	}

	jit_grant_free(verified);
	jit_keyring_free(keys);
	return r;
}

static int sign_and_store(const jitctl *ctl, jit_grant *grant)
{
	jit_chain_grant_event evidence;
	jit_issuer_key *key = NULL;
	jit_store *store = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_error error;
	int r = CTL_EXIT_FAIL;

	jit_error_clear(&error);
	if (jit_issuer_key_load(ctl->config->issuer_key, &key, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND)
			ctl_error(ctl, "%s; run jitctl init first", error.message);
		else
			ctl_lib_error(ctl, &error);
		goto out;
	}

	if (jit_grant_sign(grant, key, &blob, &blob_len, &error) != JIT_OK) {
		ctl_lib_error(ctl, &error);
		goto out;
	}

	r = check_signed(ctl, blob, blob_len, key);
	if (r != CTL_EXIT_OK)
		goto out;

	r = ctl_store_open(ctl, JIT_STORE_WRITE, &store);
	if (r != CTL_EXIT_OK)
		goto out;
	jit_chain_grant_event_init(&evidence,
				   jit_event_name(JIT_EVENT_GRANT_ISSUED),
				   grant, grant->requester);
	if (jit_store_put_grant_with_evidence(store, grant->id, grant->user,
					      grant->not_after, blob, blob_len,
					      &evidence.ev, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
out:
	jit_store_close(store);
	free(blob);
	jit_issuer_key_free(key);
	return r;
}

static int emit_issued(const jitctl *ctl, const jit_grant *grant,
		       const char *id, const char *invoker)
{
	char *runas = output_join(&grant->runas_users, ",");
	char *services = output_join(&grant->services, ",");
	char *commands = output_commands_text(grant, ", ");
	jit_event event = {
		.type = JIT_EVENT_GRANT_ISSUED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.request_id = grant->request_id,
		.user = grant->user,
		.actor = invoker,
		.role = grant->role,
		.justification = grant->reason,
		.service = services,
		.command = commands,
		.runas = runas,
		.expires = grant->not_after,
	};
	jit_error error;
	int r = CTL_EXIT_OK;

	jit_error_clear(&error);
	if (runas == NULL || services == NULL || commands == NULL) {
		ctl_error(ctl, "grant %s is stored, but out of memory before its grant-issued event", id);
		r = CTL_EXIT_FAIL;
	} else if (jit_event_emit(&event, &error) != JIT_OK) {
		ctl_error(ctl, "grant %s is stored, but its grant-issued event was not recorded: %s; check journald or syslog",
			  id, error.message);
		r = CTL_EXIT_FAIL;
	}

	free(runas);
	free(services);
	free(commands);
	return r;
}

/* A grant may be meant for other hosts, so these are only warnings. */
static void warn_about_command(const jitctl *ctl, const char *path)
{
	if (strcmp(path, "ALL") == 0)
		return;
	if (jit_command_is_shell(path))
		ctl_warn(ctl, "%s is a shell, so this grant allows any command, as ALL does",
			 path);
	else if (access(path, X_OK) != 0)
		ctl_warn(ctl, "no executable %s on this host; issuing the grant anyway",
			 path);
}

static int issue(jitctl *ctl, const grant_options *opts)
{
	jit_grant *grant = NULL;
	char *invoker = NULL;
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	int r;

	/* Grants may be issued for hosts where the account exists later. */
	if (jit_valid_name(opts->user) && getpwnam(opts->user) == NULL)
		ctl_warn(ctl, "no local user \"%s\" on this host; issuing the grant anyway",
			 opts->user);

	r = ctl_invoking_user(ctl, &invoker);
	if (r == CTL_EXIT_OK)
		r = build_grant(ctl, opts, invoker, &grant);
	if (r == CTL_EXIT_OK)
		r = sign_and_store(ctl, grant);
	if (r != CTL_EXIT_OK)
		goto out;

	if (!jit_grant_matches_host(grant, ctl->config->hostname))
		ctl_warn(ctl, "the grant's hosts do not include this host (%s), so it is not valid here",
			 ctl->config->hostname);
	for (size_t i = 0; i < grant->command_count; i++)
		warn_about_command(ctl, grant->commands[i].path);

	/* The id goes out even when the event fails: the grant exists. */
	jit_grant_id_format(grant->id, id);
	printf("%s\n", id);
	r = emit_issued(ctl, grant, id, invoker);
out:
	jit_grant_free(grant);
	free(invoker);
	return r;
}

/* Without root, an approver of the role asks the broker to issue the
 * grant; the broker applies the same rules and records the approver. */
static int issue_through_broker(const jitctl *ctl, const grant_options *opts)
{
	jit_broker_message message = {
		.op = JIT_BROKER_GRANT,
		.user = (char *)opts->user,
		.role = (char *)opts->role,
		.duration = (char *)opts->duration,
		.reason = (char *)opts->reason,
		.start = (char *)opts->start,
		.runas = opts->runas,
		.commands = opts->commands,
		.services = opts->services,
		.hosts = opts->hosts,
	};
	broker_reply reply;
	int r;

	r = ctl_broker_call(ctl, &message, &reply);
	if (r == CTL_EXIT_OK)
		printf("%s\n", ctl_response_string(ctl_response_get(reply.response, "grant"),
						 "id"));
	ctl_broker_finish(ctl, &reply);
	return r;
}

int cmd_grant(jitctl *ctl, int argc, char **argv)
{
	grant_options opts = { 0 };
	int r;

	r = parse_grant_options(ctl, argc, argv, &opts);
	if (r != CTL_CONTINUE)
		goto out;

	r = ctl_prepare(ctl);
	if (r == CTL_EXIT_OK && geteuid() != 0)
		r = issue_through_broker(ctl, &opts);
	else if (r == CTL_EXIT_OK)
		r = issue(ctl, &opts);
out:
	grant_options_clear(&opts);
	return r;
}
