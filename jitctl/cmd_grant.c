/* jitctl grant: issue a grant directly, as root. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

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
	if (opts->duration == NULL)
		return ctl_usage_error(ctl, "missing --for DURATION");
	if (opts->reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");
	if (opts->role == NULL && opts->commands.count == 0 &&
	    opts->services.count == 0)
		return ctl_usage_error(ctl, "a grant without --role needs at least one --command or --service");
	return CTL_CONTINUE;
}

static int copy_string(const jitctl *ctl, char **field, const char *value)
{
	*field = strdup(value);
	if (*field == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int copy_list(const jitctl *ctl, jit_strlist *to, const jit_strlist *from)
{
	for (size_t i = 0; i < from->count; i++) {
		if (jit_strlist_append(to, from->items[i]) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			return CTL_EXIT_FAIL;
		}
	}
	return CTL_EXIT_OK;
}

/* Adds one command in the --command syntax: "ALL", "/path" (any
 * arguments), "/path ARG..." (exactly those) or "/path \"\"" (none).
 * Arguments are separated by blanks, so one cannot contain a blank. source
 * names where the text came from, for messages. */
static int add_command(const jitctl *ctl, jit_grant *grant, const char *text,
		       const char *source)
{
	jit_strlist args = { 0 };
	bool no_args = false;
	char *copy, *save = NULL, *path, *word;
	jit_error error;
	int r = CTL_EXIT_FAIL;

	copy = strdup(text);
	if (copy == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}

	path = strtok_r(copy, " \t", &save);
	if (path == NULL || (strcmp(path, "ALL") != 0 && path[0] != '/')) {
		ctl_error(ctl, "invalid command \"%s\" in %s: use ALL, an absolute path, or an absolute path followed by its exact arguments",
			  text, source);
		goto out;
	}

	while ((word = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strcmp(word, "\"\"") == 0)
			no_args = true;
		else if (jit_strlist_append(&args, word) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			goto out;
		}
	}

	if (no_args && args.count > 0) {
		ctl_error(ctl, "invalid command \"%s\" in %s: \"\" means no arguments and cannot follow or precede others",
			  text, source);
		goto out;
	}
	if (strcmp(path, "ALL") == 0 && (no_args || args.count > 0)) {
		ctl_error(ctl, "invalid command \"%s\" in %s: ALL takes no arguments",
			  text, source);
		goto out;
	}

	jit_error_clear(&error);
	if (jit_grant_add_command(grant, path,
				  no_args || args.count > 0 ? &args : NULL,
				  &error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
		goto out;
	}
	r = CTL_EXIT_OK;
out:
	jit_strlist_clear(&args);
	free(copy);
	return r;
}

static int check_names(const jitctl *ctl, const jit_strlist *names,
		       const char *what)
{
	for (size_t i = 0; i < names->count; i++) {
		if (!jit_valid_name(names->items[i])) {
			ctl_error(ctl, "invalid %s \"%s\": use 1 to 32 letters, digits, '_', '-' or '.', not starting with '-'",
				  what, names->items[i]);
			return CTL_EXIT_FAIL;
		}
	}
	return CTL_EXIT_OK;
}

static int set_runas(const jitctl *ctl, const grant_options *opts,
		     const jit_role *role, jit_grant *grant)
{
	static char *root_name[] = { "root" };
	static const jit_strlist root_only = { 1, root_name };
	const jit_strlist *runas = &opts->runas;
	int r;

	if (runas->count == 0 && role != NULL)
		runas = &role->runas;
	if (runas->count == 0)
		runas = &root_only;

	r = check_names(ctl, runas, "runas user");
	if (r == CTL_EXIT_OK)
		r = copy_list(ctl, &grant->runas_users, runas);
	if (r != CTL_EXIT_OK)
		return r;

	if (role != NULL)
		r = copy_list(ctl, &grant->runas_groups, &role->runas_groups);
	return r;
}

static int set_commands(const jitctl *ctl, const grant_options *opts,
			const jit_role *role, jit_grant *grant)
{
	const jit_strlist *commands = &opts->commands;
	char source[96] = "--command";
	int r = CTL_EXIT_OK;

	if (commands->count == 0 && role != NULL) {
		commands = &role->commands;
		snprintf(source, sizeof(source), "role %s", role->name);
	}

	for (size_t i = 0; r == CTL_EXIT_OK && i < commands->count; i++)
		r = add_command(ctl, grant, commands->items[i], source);
	return r;
}

static int set_services(const jitctl *ctl, const grant_options *opts,
			const jit_role *role, jit_grant *grant)
{
	const jit_strlist *services = &opts->services;
	int r;

	if (services->count == 0 && role != NULL)
		services = &role->services;
	r = check_names(ctl, services, "service name");
	if (r != CTL_EXIT_OK)
		return r;
	return copy_list(ctl, &grant->services, services);
}

static int set_hosts(const jitctl *ctl, const grant_options *opts,
		     const jit_role *role, jit_grant *grant)
{
	const jit_strlist *hosts = &opts->hosts;

	if (hosts->count == 0 && role != NULL)
		hosts = &role->hosts;
	if (hosts->count == 0) {
		if (jit_strlist_append(&grant->hosts, ctl->config->hostname) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			return CTL_EXIT_FAIL;
		}
		return CTL_EXIT_OK;
	}

	for (size_t i = 0; i < hosts->count; i++) {
		if (hosts->items[i][0] == '\0') {
			ctl_error(ctl, "empty --host; give a host name or pattern");
			return CTL_EXIT_FAIL;
		}
	}
	return copy_list(ctl, &grant->hosts, hosts);
}

/* Fills the scope: options given on the command line win, then the role's
 * values, then the built-in defaults (runas root, this host). */
static int set_scope(const jitctl *ctl, const grant_options *opts,
		     const jit_role *role, jit_grant *grant)
{
	int r;

	r = set_runas(ctl, opts, role, grant);
	if (r == CTL_EXIT_OK)
		r = set_commands(ctl, opts, role, grant);
	if (r == CTL_EXIT_OK)
		r = set_services(ctl, opts, role, grant);
	if (r == CTL_EXIT_OK)
		r = set_hosts(ctl, opts, role, grant);
	if (r != CTL_EXIT_OK)
		return r;

	if (grant->command_count == 0 && grant->services.count == 0) {
		ctl_error(ctl, "role %s names no commands and no services; pass --command or --service",
			  role != NULL ? role->name : "direct");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* Sets not_before, not_after and issued_at. The duration is capped by the
 * smaller of the role's and the global max_duration. */
static int set_times(const jitctl *ctl, const grant_options *opts,
		     const jit_role *role, jit_grant *grant)
{
	int64_t now = ctl->now_ms / 1000, start = now, cap, seconds = 0;
	jit_error error;

	cap = ctl->config->max_duration;
	if (role != NULL && role->max_duration > 0 &&
	    (cap <= 0 || role->max_duration < cap))
		cap = role->max_duration;

	jit_error_clear(&error);
	if (jit_duration_parse(opts->duration, cap, &seconds, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	if (opts->start != NULL) {
		if (jit_time_parse(opts->start, now, &start, &error) != JIT_OK)
			return ctl_lib_error(ctl, &error);
		if (start < now) {
			ctl_error(ctl, "--start %s is in the past; give a later time or +DURATION",
				  opts->start);
			return CTL_EXIT_FAIL;
		}
	}
	if (seconds > INT64_MAX - start) {
		ctl_error(ctl, "--for %s from --start %s ends beyond the largest time; give an earlier start",
			  opts->duration, opts->start != NULL ? opts->start : "now");
		return CTL_EXIT_FAIL;
	}

	grant->not_before = start;
	grant->not_after = start + seconds;
	grant->issued_at = now;
	return CTL_EXIT_OK;
}

/* Sets who and why: a grant issued directly has no request, and the
 * invoking user is both requester and approver. */
static int set_people(const jitctl *ctl, const grant_options *opts,
		      const jit_role *role, const char *invoker,
		      jit_grant *grant)
{
	int r;

	if (opts->reason[0] == '\0') {
		ctl_error(ctl, "--reason is empty; say why the grant is needed");
		return CTL_EXIT_FAIL;
	}

	r = copy_string(ctl, &grant->user, opts->user);
	if (r == CTL_EXIT_OK)
		r = copy_string(ctl, &grant->role, role != NULL ? role->name : "direct");
	if (r == CTL_EXIT_OK)
		r = copy_string(ctl, &grant->request_id, "");
	if (r == CTL_EXIT_OK)
		r = copy_string(ctl, &grant->requester, invoker);
	if (r == CTL_EXIT_OK)
		r = copy_string(ctl, &grant->reason, opts->reason);
	if (r == CTL_EXIT_OK && jit_strlist_append(&grant->approvers, invoker) != JIT_OK) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
	}
	return r;
}

static int build_grant(const jitctl *ctl, const grant_options *opts,
		       const jit_role *role, const char *invoker,
		       jit_grant **out)
{
	jit_grant *grant = NULL;
	jit_error error;
	int r;

	*out = NULL;

	jit_error_clear(&error);
	if (jit_grant_new(&grant, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	r = set_people(ctl, opts, role, invoker, grant);
	if (r == CTL_EXIT_OK)
		r = set_times(ctl, opts, role, grant);
	if (r == CTL_EXIT_OK)
		r = set_scope(ctl, opts, role, grant);
	if (r != CTL_EXIT_OK) {
		jit_grant_free(grant);
		return r;
	}

	*out = grant;
	return CTL_EXIT_OK;
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

	jit_grant_new_id(grant);
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
	if (jit_store_put_grant(store, grant->id, grant->user, grant->not_after,
				blob, blob_len, &error) != JIT_OK)
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

static int issue(jitctl *ctl, const grant_options *opts)
{
	const jit_role *role = NULL;
	jit_grant *grant = NULL;
	char *invoker = NULL;
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	int r;

	if (!jit_valid_name(opts->user)) {
		ctl_error(ctl, "invalid user name \"%s\": use 1 to 32 letters, digits, '_', '-' or '.', not starting with '-'",
			  opts->user);
		return CTL_EXIT_FAIL;
	}
	/* Grants may be issued for hosts where the account exists later. */
	if (getpwnam(opts->user) == NULL)
		ctl_warn(ctl, "no local user \"%s\" on this host; issuing the grant anyway",
			 opts->user);

	if (opts->role != NULL) {
		role = jit_config_find_role(ctl->config, opts->role);
		if (role == NULL) {
			ctl_error(ctl, "role \"%s\" not found in %s; add a [role %s] section or leave out --role",
				  opts->role, ctl->config_path, opts->role);
			return CTL_EXIT_FAIL;
		}
	}

	r = ctl_invoking_user(ctl, &invoker);
	if (r == CTL_EXIT_OK)
		r = build_grant(ctl, opts, role, invoker, &grant);
	if (r == CTL_EXIT_OK)
		r = sign_and_store(ctl, grant);
	if (r != CTL_EXIT_OK)
		goto out;

	/* The id goes out even when the event fails: the grant exists. */
	jit_grant_id_format(grant->id, id);
	printf("%s\n", id);
	r = emit_issued(ctl, grant, id, invoker);
out:
	jit_grant_free(grant);
	free(invoker);
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
	if (r == CTL_EXIT_OK)
		r = issue(ctl, &opts);
out:
	grant_options_clear(&opts);
	return r;
}
