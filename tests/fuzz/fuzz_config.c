/* Fuzz target for the configuration parser, jit_config_parse.
 *
 * The input is the file's text up to its first NUL byte. The oracles:
 * - a configuration that parses contains only values its readers can use
 *   as they are: absolute paths, valid names, durations within their
 *   limits, "all" and "ALL" alone in their lists, role durations under
 *   their caps;
 * - a parse that fails gives a configuration error on one line, starting
 *   with the file name. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "fuzzlib.h"
#include "jit/config.h"

#define FUZZ_PATH "fuzz.conf"

static const jit_err parse_errors[] = {
	JIT_ERR_CONFIG, JIT_ERR_TOO_LARGE, JIT_ERR_IO, JIT_OK
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_path(const char *key, const char *path, size_t max)
{
	if (path == NULL || path[0] != '/' || strlen(path) >= max ||
	    fuzz_has_control(path))
		fuzz_fail("%s is not a usable absolute path", key);
}

static void check_search_path(const char *value)
{
	const char *p = value;

	check_path("secure_path", value, PATH_MAX * 4);
	for (;;) {
		const char *end = strchrnul(p, ':');

		if (end == p || *p != '/')
			fuzz_fail("secure_path '%s' has an entry that is not an absolute folder",
				  value);
		if (*end == '\0')
			return;
		p = end + 1;
	}
}

/* Items are NAME, or PREFIX NAME for each prefix given; NULL ends the list
 * of prefixes, and a NULL first prefix means names only. */
static void check_names(const char *key, const jit_strlist *list,
			const char *const *prefixes)
{
	for (size_t i = 0; i < list->count; i++) {
		const char *item = list->items[i];
		const char *name = prefixes[0] == NULL ? item : NULL;

		for (size_t p = 0; prefixes[p] != NULL && name == NULL; p++)
			if (strncmp(item, prefixes[p], strlen(prefixes[p])) == 0)
				name = item + strlen(prefixes[p]);
		if (name == NULL || !jit_valid_name(name))
			fuzz_fail("%s item '%s' is not a valid name", key, item);
	}
}

static void check_alone(const char *key, const jit_strlist *list,
			const char *everything)
{
	if (list->count > 1 && jit_strlist_contains(list, everything))
		fuzz_fail("%s lists %s next to other items", key, everything);
}

static void check_commands(const jit_role *role)
{
	check_alone("commands", &role->commands, "ALL");
	for (size_t i = 0; i < role->commands.count; i++) {
		const char *command = role->commands.items[i];

		if (strcmp(command, "ALL") != 0 &&
		    (command[0] != '/' || fuzz_has_control(command)))
			fuzz_fail("role %s command '%s' is neither ALL nor an absolute path",
				  role->name, command);
	}
}

static void check_role(const jit_config *config, const jit_role *role)
{
	static const char *const names[] = { NULL };
	static const char *const members[] = { "%", "", NULL };
	int64_t cap = role->max_duration > 0 ? role->max_duration :
					       config->max_duration;

	if (role->name == NULL || !jit_valid_name(role->name))
		fuzz_fail("a role has an invalid name");
	if (jit_config_find_role(config, role->name) != role)
		fuzz_fail("role %s is not found by name, or is there twice",
			  role->name);

	check_names("runas", &role->runas, names);
	check_names("runas_groups", &role->runas_groups, names);
	check_names("services", &role->services, names);
	check_names("requesters", &role->requesters, members);
	check_names("approvers", &role->approvers, members);
	check_commands(role);

	if (role->max_duration < 0 || role->max_duration > config->max_duration)
		fuzz_fail("role %s max_duration %lld is over the global %lld",
			  role->name, (long long)role->max_duration,
			  (long long)config->max_duration);
	if (role->default_duration < 0 || role->default_duration > cap)
		fuzz_fail("role %s default_duration %lld is over its cap %lld",
			  role->name, (long long)role->default_duration,
			  (long long)cap);
	if (role->approvals < 1 || role->request_ttl <= 0)
		fuzz_fail("role %s needs %u approvals with a request ttl of %lld",
			  role->name, role->approvals,
			  (long long)role->request_ttl);
	if (role->authenticate != JIT_UNSET && role->authenticate != JIT_NO &&
	    role->authenticate != JIT_YES)
		fuzz_fail("role %s authenticate is %d", role->name,
			  (int)role->authenticate);
}

static void check_config(const jit_config *config)
{
	static const char *const principals[] = { "user:", "group:", NULL };
	size_t sun_path_max = sizeof(((struct sockaddr_un *)NULL)->sun_path);

	if (config->path == NULL || strcmp(config->path, FUZZ_PATH) != 0)
		fuzz_fail("the configuration does not name its file");

	check_path("store", config->store, PATH_MAX);
	check_path("issuer_key", config->issuer_key, PATH_MAX);
	check_path("trusted_keys", config->trusted_keys, PATH_MAX);
	check_path("broker_socket", config->broker_socket, sun_path_max);
	check_path("timestamp_dir", config->timestamp_dir, PATH_MAX);
	check_search_path(config->secure_path);

	if (config->hostname == NULL || config->hostname[0] == '\0' ||
	    fuzz_has_control(config->hostname))
		fuzz_fail("the host name is missing or unprintable");
	if (config->break_glass_group == NULL ||
	    !jit_valid_name(config->break_glass_group))
		fuzz_fail("break_glass_group is not a valid name");
	if (config->clock_skew < 0 || config->max_duration <= 0 ||
	    config->timestamp_timeout < 0)
		fuzz_fail("a duration is out of range: skew %lld, max %lld, timeout %lld",
			  (long long)config->clock_skew,
			  (long long)config->max_duration,
			  (long long)config->timestamp_timeout);

	if (!(config->gate.count == 1 && strcmp(config->gate.items[0], "all") == 0))
		check_names("gate", &config->gate, principals);
	check_alone("gate", &config->gate, "all");
	check_names("exempt", &config->exempt, principals);

	for (size_t i = 0; i < config->role_count; i++)
		check_role(config, &config->roles[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	jit_config *config = NULL;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_config_parse(FUZZ_PATH, text, &config, &error);
	if (r == JIT_OK) {
		check_config(config);
	} else {
		fuzz_check_error("jit_config_parse", r, &error, false,
				 parse_errors);
		if (strncmp(error.message, FUZZ_PATH, strlen(FUZZ_PATH)) != 0)
			fuzz_fail("message does not start with the file name: %s",
				  error.message);
		if (strchr(error.message, '\n') != NULL)
			fuzz_fail("message is more than one line: %s",
				  error.message);
		if (config != NULL)
			fuzz_fail("a failed parse left a configuration behind");
	}

	jit_config_free(config);
	free(text);
	return 0;
}
