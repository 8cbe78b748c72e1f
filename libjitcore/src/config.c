#include "jit/config.h"
#include "jit/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Values are quoted in messages up to this many bytes. */
#define QUOTE_MAX 64

/* Lookups through NSS grow their buffers up to this size. */
#define NSS_BUFFER_MAX (1024 * 1024)
#define GROUPS_MAX 65536

typedef enum section_kind {
	SECTION_NONE,
	SECTION_JIT,
	SECTION_SUDO,
	SECTION_PAM,
	SECTION_ROLE,
} section_kind;

typedef enum value_kind {
	VALUE_PATH,             /* an absolute path */
	VALUE_SOCKET_PATH,      /* an absolute path that fits in sun_path */
	VALUE_HOSTNAME,         /* a host name, or empty for gethostname() */
	VALUE_NAME,             /* a user or group name */
	VALUE_DURATION,
	VALUE_DURATION_ZERO_OK,
	VALUE_BOOL,
	VALUE_TRISTATE,
	VALUE_SEARCH_PATH,      /* absolute folders separated by ':' */
	VALUE_COUNT,            /* a whole number >= 1 */
	VALUE_REGEX,
	/* Lists: comma-separated, and indented lines add to them. */
	VALUE_GATE,             /* "all", or user:NAME and group:NAME */
	VALUE_EXEMPT,           /* user:NAME and group:NAME */
	VALUE_NAMES,
	VALUE_HOSTS,            /* host names or fnmatch(3) patterns */
	VALUE_MEMBERS,          /* user names and %groups */
	VALUE_COMMANDS,         /* "ALL", or "/path" with optional arguments */
} value_kind;

typedef struct key_spec {
	const char *name;
	value_kind kind;
	size_t offset;          /* into jit_config, or jit_role in [role] */
} key_spec;

#define CONFIG_KEY(name, kind) { #name, kind, offsetof(jit_config, name) }
#define ROLE_KEY(name, kind) { #name, kind, offsetof(jit_role, name) }

static const key_spec jit_keys[] = {
	CONFIG_KEY(store, VALUE_PATH),
	CONFIG_KEY(issuer_key, VALUE_PATH),
	CONFIG_KEY(trusted_keys, VALUE_PATH),
	CONFIG_KEY(hostname, VALUE_HOSTNAME),
	CONFIG_KEY(clock_skew, VALUE_DURATION_ZERO_OK),
	CONFIG_KEY(max_duration, VALUE_DURATION),
	CONFIG_KEY(broker_socket, VALUE_SOCKET_PATH),
	CONFIG_KEY(break_glass_group, VALUE_NAME),
	CONFIG_KEY(break_glass_max_duration, VALUE_DURATION),
	CONFIG_KEY(notify_command, VALUE_PATH),
	CONFIG_KEY(evidence_retention, VALUE_DURATION_ZERO_OK),
};

static const key_spec sudo_keys[] = {
	{ "authenticate", VALUE_BOOL, offsetof(jit_config, sudo_authenticate) },
	CONFIG_KEY(secure_path, VALUE_SEARCH_PATH),
	CONFIG_KEY(timestamp_dir, VALUE_PATH),
	CONFIG_KEY(timestamp_timeout, VALUE_DURATION_ZERO_OK),
};

static const key_spec pam_keys[] = {
	CONFIG_KEY(gate, VALUE_GATE),
	CONFIG_KEY(exempt, VALUE_EXEMPT),
};

static const key_spec role_keys[] = {
	ROLE_KEY(runas, VALUE_NAMES),
	ROLE_KEY(runas_groups, VALUE_NAMES),
	ROLE_KEY(commands, VALUE_COMMANDS),
	ROLE_KEY(services, VALUE_NAMES),
	ROLE_KEY(hosts, VALUE_HOSTS),
	ROLE_KEY(requesters, VALUE_MEMBERS),
	ROLE_KEY(approvers, VALUE_MEMBERS),
	ROLE_KEY(default_duration, VALUE_DURATION),
	ROLE_KEY(max_duration, VALUE_DURATION),
	ROLE_KEY(approvals, VALUE_COUNT),
	ROLE_KEY(reason_pattern, VALUE_REGEX),
	ROLE_KEY(authenticate, VALUE_TRISTATE),
	ROLE_KEY(request_ttl, VALUE_DURATION),
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

/* Where each role's settings came from, for checks made after the whole
 * file is read. */
typedef struct role_source {
	int section_line;
	int default_duration_line;
	int max_duration_line;
	int requesters_line;
	int approvers_line;
	int approvals_line;
} role_source;

typedef struct parser {
	const char *path;
	const char *next;           /* text not yet handed to inih */
	int line;                   /* the line inih is working on */
	jit_config *config;
	role_source *sources;       /* parallel to config->roles */
	int break_glass_line;       /* where break_glass_max_duration is set */

	section_kind section;
	char section_name[80];      /* "jit" or "role NAME", for messages */
	bool section_seen[SECTION_ROLE];
	const key_spec *keys;       /* of the current section */
	size_t key_count;
	uint32_t keys_seen;         /* bit i: keys[i] was set in this section */
	const key_spec *last_key;

	/* inih hands an indented line to the handler as a continuation of
	 * the previous key, as Python's configparser does. These two mirror
	 * its state, so the handler can tell a continuation from a repeat. */
	bool after_key;
	bool continuation;

	int error_line;
	jit_err error_code;
	char message[JIT_ERROR_MESSAGE_MAX];
} parser;

_Static_assert(COUNT_OF(role_keys) <= 32, "keys_seen holds 32 bits");

__attribute__((format(printf, 4, 5)))
static int parser_fail_at(parser *p, int line, jit_err code,
			  const char *format, ...)
{
	size_t used;
	va_list ap;
	int n;

	if (p->error_line != 0)
		return 0;

	p->error_line = line > 0 ? line : -1;
	p->error_code = code;

	if (line > 0)
		n = snprintf(p->message, sizeof(p->message), "%s:%d: ",
			     p->path, line);
	else
		n = snprintf(p->message, sizeof(p->message), "%s: ", p->path);
	used = n > 0 ? (size_t)n : 0;
	if (used >= sizeof(p->message))
		return 0;

	va_start(ap, format);
	vsnprintf(p->message + used, sizeof(p->message) - used, format, ap);
	va_end(ap);
	return 0;
}

#define parser_fail(p, code, ...) parser_fail_at(p, (p)->line, code, __VA_ARGS__)

static bool is_list_kind(value_kind kind)
{
	return kind >= VALUE_GATE;
}

static bool has_control_chars(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++)
		if (*c < 0x20 || *c == 0x7f)
			return true;
	return false;
}

static jit_err check_absolute_path(const char *value, jit_error *error)
{
	if (value[0] != '/')
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not an absolute path",
				     QUOTE_MAX, value);
	if (strlen(value) >= PATH_MAX || has_control_chars(value))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a usable path",
				     QUOTE_MAX, value);
	return JIT_OK;
}

static jit_err replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return JIT_ERR_NOMEM;
	free(*slot);
	*slot = copy;
	return JIT_OK;
}

static jit_err set_path(char **slot, const char *value, bool socket,
			jit_error *error)
{
	struct sockaddr_un address;
	jit_err r;

	r = check_absolute_path(value, error);
	if (r != JIT_OK)
		return r;

	if (socket && strlen(value) >= sizeof(address.sun_path))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is longer than the %zu bytes a Unix socket path may have",
				     QUOTE_MAX, value, sizeof(address.sun_path) - 1);

	return replace_string(slot, value);
}

static bool valid_host_char(unsigned char c, bool pattern)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')
		return true;
	return pattern && strchr("*?[]!", c) != NULL;
}

static bool valid_host(const char *value, bool pattern)
{
	size_t length = strlen(value);

	if (length == 0 || length > 253 || value[0] == '-')
		return false;
	for (size_t i = 0; i < length; i++)
		if (!valid_host_char((unsigned char)value[i], pattern))
			return false;
	return true;
}

static jit_err set_hostname(char **slot, const char *value, jit_error *error)
{
	if (value[0] == '\0') {
		free(*slot);
		*slot = NULL;
		return JIT_OK;
	}

	if (!valid_host(value, false))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a valid host name",
				     QUOTE_MAX, value);
	return replace_string(slot, value);
}

static jit_err set_name(char **slot, const char *value, jit_error *error)
{
	if (!jit_valid_name(value))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a valid user or group name",
				     QUOTE_MAX, value);
	return replace_string(slot, value);
}

static jit_err parse_yes_no(const char *value, bool *result, jit_error *error)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };

	for (size_t i = 0; i < COUNT_OF(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*result = true;
			return JIT_OK;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*result = false;
			return JIT_OK;
		}
	}

	return jit_error_set(error, JIT_ERR_CONFIG,
			     "'%.*s' is not a yes/no value; use yes or no",
			     QUOTE_MAX, value);
}

static jit_err set_search_path(char **slot, const char *value,
			       jit_error *error)
{
	const char *p = value;

	for (;;) {
		const char *end = strchrnul(p, ':');

		if (end == p || *p != '/')
			return jit_error_set(error, JIT_ERR_CONFIG,
					     "'%.*s' must list absolute folders separated by ':', with no empty entries",
					     QUOTE_MAX, value);
		if (*end == '\0')
			break;
		p = end + 1;
	}

	if (strlen(value) >= PATH_MAX * 4 || has_control_chars(value))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a usable search path",
				     QUOTE_MAX, value);
	return replace_string(slot, value);
}

static jit_err set_count(unsigned *slot, const char *value, jit_error *error)
{
	unsigned long long number = 0;
	bool valid = value[0] != '\0';

	for (const char *c = value; valid && *c != '\0'; c++) {
		valid = *c >= '0' && *c <= '9';
		if (valid)
			number = number * 10 + (unsigned)(*c - '0');
		if (number > UINT_MAX)
			valid = false;
	}

	if (!valid || number < 1)
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a whole number of at least 1",
				     QUOTE_MAX, value);
	*slot = (unsigned)number;
	return JIT_OK;
}

/* Maximum length of a reason_pattern, in bytes. */
#define REGEX_MAX 256

/* Skips a bracket expression starting at p ('['); returns the byte after
 * its ']', or NULL when it does not end. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p != '\0'; p++) {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			const char *close = strstr(p + 2, (const char[]){ p[1], ']', '\0' });

			if (close == NULL)
				return NULL;
			p = close + 1;
		} else if (*p == ']') {
			return p + 1;
		}
	}
	return NULL;
}

/* Rejects patterns whose compiled form can grow without bound: glibc's
 * regcomp copies a repeated expression, so repetition applied to a
 * repetition ("a++", "(a+)+", "(a{9}){9}") multiplies its size, and a
 * 181-byte pattern took over 2 GiB. A quantifier may follow only an atom
 * or a group without repetition inside. */
static bool regex_is_bounded(const char *pattern)
{
	bool group_repeats[REGEX_MAX + 1] = { false };
	size_t depth = 0;
	bool last_repeats = false;   /* the previous atom contains repetition */
	bool after_quantifier = false;

	for (const char *p = pattern; *p != '\0';) {
		bool quantifier = *p == '*' || *p == '+' || *p == '?' || *p == '{';

		if (quantifier) {
			if (after_quantifier || last_repeats)
				return false;
			if (*p == '{') {
				p = strchr(p, '}');
				if (p == NULL)
					return true;   /* regcomp reports it */
			}
			p++;
			group_repeats[depth] = true;
			after_quantifier = true;
			continue;
		}

		after_quantifier = false;
		last_repeats = false;
		if (*p == '\\' && p[1] != '\0') {
			p += 2;
		} else if (*p == '[') {
			p = skip_bracket(p);
			if (p == NULL)
				return true;
		} else if (*p == '(') {
			if (depth >= REGEX_MAX)
				return false;
			group_repeats[++depth] = false;
			p++;
		} else if (*p == ')' && depth > 0) {
			last_repeats = group_repeats[depth--];
			group_repeats[depth] = group_repeats[depth] || last_repeats;
			p++;
		} else {
			p++;
		}
	}
	return true;
}

static jit_err set_regex(char **slot, const char *value, jit_error *error)
{
	char reason[128];
	regex_t regex;
	int rc;

	if (value[0] == '\0') {
		free(*slot);
		*slot = NULL;
		return JIT_OK;
	}

	if (strlen(value) > REGEX_MAX)
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "the regular expression is longer than %d bytes",
				     REGEX_MAX);
	if (!regex_is_bounded(value))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' repeats a repetition (such as a++ or (a+)*); write it without nested repetition",
				     QUOTE_MAX, value);

	rc = regcomp(&regex, value, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &regex, reason, sizeof(reason));
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a valid extended regular expression: %s",
				     QUOTE_MAX, value, reason);
	}
	regfree(&regex);

	return replace_string(slot, value);
}

/* Checks one list item for a list of the given kind. */
static jit_err check_item(value_kind kind, const char *item, jit_error *error)
{
	const char *name = item;

	switch (kind) {
	case VALUE_GATE:
		if (strcmp(item, "all") == 0)
			return JIT_OK;
		/* fall through */
	case VALUE_EXEMPT:
		if (strncmp(item, "user:", 5) == 0)
			name = item + 5;
		else if (strncmp(item, "group:", 6) == 0)
			name = item + 6;
		else
			return jit_error_set(error, JIT_ERR_CONFIG,
					     "'%.*s' must be %suser:NAME or group:NAME",
					     QUOTE_MAX, item,
					     kind == VALUE_GATE ? "all, " : "");
		break;
	case VALUE_MEMBERS:
		if (item[0] == '%')
			name = item + 1;
		break;
	case VALUE_HOSTS:
		if (!valid_host(item, true))
			return jit_error_set(error, JIT_ERR_CONFIG,
					     "'%.*s' is not a valid host name or pattern",
					     QUOTE_MAX, item);
		return JIT_OK;
	case VALUE_COMMANDS:
		if (strcmp(item, "ALL") == 0)
			return JIT_OK;
		if (item[0] != '/' || has_control_chars(item))
			return jit_error_set(error, JIT_ERR_CONFIG,
					     "'%.*s' must be ALL or an absolute path, optionally followed by arguments",
					     QUOTE_MAX, item);
		return JIT_OK;
	default:
		break;
	}

	if (!jit_valid_name(name))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "'%.*s' is not a valid user or group name",
				     QUOTE_MAX, name);
	return JIT_OK;
}

/* "all" gates everyone and "ALL" allows every command, so either must
 * stand alone: next to other items it would hide a mistake. */
static jit_err check_list(value_kind kind, const jit_strlist *list,
			  jit_error *error)
{
	const char *everything = kind == VALUE_GATE ? "all" :
				 kind == VALUE_COMMANDS ? "ALL" : NULL;

	if (everything != NULL && list->count > 1 &&
	    jit_strlist_contains(list, everything))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "%s must be the only item in the list",
				     everything);
	return JIT_OK;
}

/* Sets a list from a comma-separated value; when append is true (an
 * indented continuation line) the items are added to those already set. */
static jit_err set_list(jit_strlist *slot, value_kind kind, const char *value,
			bool append, jit_error *error)
{
	jit_strlist items = { 0 };
	jit_err r;

	r = jit_strlist_split(&items, value);
	if (r != JIT_OK)
		goto out;

	for (size_t i = 0; i < items.count; i++) {
		r = check_item(kind, items.items[i], error);
		if (r != JIT_OK)
			goto out;
	}

	if (!append)
		jit_strlist_clear(slot);
	for (size_t i = 0; i < items.count; i++) {
		r = jit_strlist_append(slot, items.items[i]);
		if (r != JIT_OK)
			goto out;
	}

	r = check_list(kind, slot, error);
out:
	jit_strlist_clear(&items);
	return r;
}

static jit_err set_value(const key_spec *spec, void *target, const char *value,
			 bool append, jit_error *error)
{
	void *slot = (char *)target + spec->offset;

	switch (spec->kind) {
	case VALUE_PATH:
		return set_path(slot, value, false, error);
	case VALUE_SOCKET_PATH:
		return set_path(slot, value, true, error);
	case VALUE_HOSTNAME:
		return set_hostname(slot, value, error);
	case VALUE_NAME:
		return set_name(slot, value, error);
	case VALUE_DURATION:
		return jit_duration_parse(value, 0, slot, error);
	case VALUE_DURATION_ZERO_OK:
		return jit_duration_parse_zero_ok(value, 0, slot, error);
	case VALUE_BOOL:
		return parse_yes_no(value, slot, error);
	case VALUE_TRISTATE: {
		bool yes;
		jit_err r = parse_yes_no(value, &yes, error);

		if (r == JIT_OK)
			*(jit_tristate *)slot = yes ? JIT_YES : JIT_NO;
		return r;
	}
	case VALUE_SEARCH_PATH:
		return set_search_path(slot, value, error);
	case VALUE_COUNT:
		return set_count(slot, value, error);
	case VALUE_REGEX:
		return set_regex(slot, value, error);
	case VALUE_GATE:
	case VALUE_EXEMPT:
	case VALUE_NAMES:
	case VALUE_HOSTS:
	case VALUE_MEMBERS:
	case VALUE_COMMANDS:
		return set_list(slot, spec->kind, value, append, error);
	}
	return JIT_ERR_INVALID;
}

static jit_role *current_role(parser *p)
{
	return &p->config->roles[p->config->role_count - 1];
}

static role_source *current_source(parser *p)
{
	return &p->sources[p->config->role_count - 1];
}

/* Records the line of the settings checked once the whole file is read,
 * so those checks can name it. */
static void record_line(parser *p, const key_spec *spec)
{
	static const struct {
		const char *name;
		size_t offset;
	} role_lines[] = {
		{ "default_duration", offsetof(role_source, default_duration_line) },
		{ "max_duration", offsetof(role_source, max_duration_line) },
		{ "requesters", offsetof(role_source, requesters_line) },
		{ "approvers", offsetof(role_source, approvers_line) },
		{ "approvals", offsetof(role_source, approvals_line) },
	};

	if (p->section == SECTION_JIT &&
	    strcmp(spec->name, "break_glass_max_duration") == 0)
		p->break_glass_line = p->line;
	if (p->section != SECTION_ROLE)
		return;

	for (size_t i = 0; i < COUNT_OF(role_lines); i++)
		if (strcmp(spec->name, role_lines[i].name) == 0)
			*(int *)((char *)current_source(p) + role_lines[i].offset) =
				p->line;
}

/* Applies one value to the current section's target and records where
 * it was set. */
static int apply_value(parser *p, const key_spec *spec, const char *value,
		       bool append)
{
	void *target = p->config;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	if (p->section == SECTION_ROLE)
		target = current_role(p);

	r = set_value(spec, target, value, append, &error);
	if (r == JIT_ERR_NOMEM)
		return parser_fail(p, r, "out of memory");
	if (r != JIT_OK)
		return parser_fail(p, JIT_ERR_CONFIG, "invalid %s in [%s]: %s",
				   spec->name, p->section_name, error.message);

	if (!append)
		record_line(p, spec);
	return 1;
}

/* Debian's inih 55 leaves inline comments on continuation lines (later
 * releases strip them), so a blank followed by ';' ends the value here. */
static char *strip_inline_comment(const char *value)
{
	char *copy = strdup(value);
	char *end;

	if (copy == NULL)
		return NULL;

	for (end = copy; *end != '\0'; end++)
		if (*end == ';' && end > copy && isspace((unsigned char)end[-1]))
			break;
	*end = '\0';
	while (end > copy && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return copy;
}

static int handle_continuation(parser *p, const char *value)
{
	const key_spec *spec = p->last_key;
	char *stripped;
	int result;

	if (spec == NULL || !is_list_kind(spec->kind))
		return parser_fail(p, JIT_ERR_CONFIG,
				   "this indented line continues the value of '%s' in [%s], which takes one value; remove the indentation",
				   spec != NULL ? spec->name : "?", p->section_name);

	stripped = strip_inline_comment(value);
	if (stripped == NULL)
		return parser_fail(p, JIT_ERR_NOMEM, "out of memory");

	result = apply_value(p, spec, stripped, true);
	free(stripped);
	return result;
}

/* The inih handler: one call per key line or continuation line. */
static int handle_pair(void *user, const char *section, const char *name,
		       const char *value)
{
	parser *p = user;
	const key_spec *spec = NULL;
	uint32_t bit;

	(void)section;
	if (p->error_line != 0)
		return 0;
	if (p->continuation)
		return handle_continuation(p, value);

	if (p->section == SECTION_NONE)
		return parser_fail(p, JIT_ERR_CONFIG,
				   "key '%.*s' is outside any section; put it under [jit], [sudo], [pam] or [role NAME]",
				   QUOTE_MAX, name);

	for (size_t i = 0; i < p->key_count && spec == NULL; i++)
		if (strcmp(p->keys[i].name, name) == 0)
			spec = &p->keys[i];
	if (spec == NULL)
		return parser_fail(p, JIT_ERR_CONFIG,
				   "unknown key '%.*s' in section [%s]",
				   QUOTE_MAX, name, p->section_name);

	bit = UINT32_C(1) << (spec - p->keys);
	if (p->keys_seen & bit)
		return parser_fail(p, JIT_ERR_CONFIG,
				   "duplicate key '%s' in section [%s]",
				   spec->name, p->section_name);
	p->keys_seen |= bit;
	p->last_key = spec;

	return apply_value(p, spec, value, false);
}

static void trim(const char **start, const char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

static void enter_section(parser *p, section_kind kind, const key_spec *keys,
			  size_t key_count)
{
	p->section = kind;
	p->keys = keys;
	p->key_count = key_count;
	p->keys_seen = 0;
	p->last_key = NULL;
}

static bool role_exists(const jit_config *config, const char *name)
{
	return jit_config_find_role(config, name) != NULL;
}

static jit_err add_role(parser *p, const char *name)
{
	jit_config *config = p->config;
	jit_role *roles;
	role_source *sources;
	jit_role *role;

	roles = reallocarray(config->roles, config->role_count + 1,
			     sizeof(*roles));
	if (roles == NULL)
		return JIT_ERR_NOMEM;
	config->roles = roles;

	sources = reallocarray(p->sources, config->role_count + 1,
			       sizeof(*sources));
	if (sources == NULL)
		return JIT_ERR_NOMEM;
	p->sources = sources;

	role = &roles[config->role_count];
	memset(role, 0, sizeof(*role));
	role->name = strdup(name);
	if (role->name == NULL)
		return JIT_ERR_NOMEM;
	role->approvals = 1;
	role->authenticate = JIT_UNSET;
	role->request_ttl = 3600;

	sources[config->role_count] = (role_source){ .section_line = p->line };
	config->role_count++;
	return JIT_OK;
}

static void begin_role_section(parser *p, const char *name, size_t length)
{
	char role[64];

	if (length == 0) {
		parser_fail(p, JIT_ERR_CONFIG,
			    "role section has no name; write [role NAME]");
		return;
	}
	if (length >= sizeof(role))
		length = sizeof(role) - 1;
	memcpy(role, name, length);
	role[length] = '\0';

	if (!jit_valid_name(role)) {
		parser_fail(p, JIT_ERR_CONFIG,
			    "invalid role name '%s': use letters, digits, '_', '-' and '.', at most 32 bytes",
			    role);
		return;
	}
	if (role_exists(p->config, role)) {
		parser_fail(p, JIT_ERR_CONFIG, "duplicate section [role %s]", role);
		return;
	}
	if (add_role(p, role) != JIT_OK) {
		parser_fail(p, JIT_ERR_NOMEM, "out of memory");
		return;
	}

	snprintf(p->section_name, sizeof(p->section_name), "role %s", role);
	enter_section(p, SECTION_ROLE, role_keys, COUNT_OF(role_keys));
}

static void begin_fixed_section(parser *p, section_kind kind,
				const char *name, const key_spec *keys,
				size_t key_count)
{
	if (p->section_seen[kind]) {
		parser_fail(p, JIT_ERR_CONFIG, "duplicate section [%s]", name);
		return;
	}
	p->section_seen[kind] = true;

	snprintf(p->section_name, sizeof(p->section_name), "%s", name);
	enter_section(p, kind, keys, key_count);
}

static bool section_is(const char *start, size_t length, const char *name)
{
	return length == strlen(name) && strncmp(start, name, length) == 0;
}

/* Handles a "[section]" line; start points just past the '['. inih
 * ignores text after the ']', so anything but a comment there is
 * rejected here. */
static void begin_section(parser *p, const char *start)
{
	const char *close = strchr(start, ']');
	const char *end, *rest;
	size_t length;

	if (close == NULL)
		return;        /* inih reports the missing ']' */

	rest = close + 1;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		parser_fail(p, JIT_ERR_CONFIG,
			    "unexpected text after the section header");
		return;
	}

	end = close;
	trim(&start, &end);
	length = (size_t)(end - start);

	if (section_is(start, length, "jit")) {
		begin_fixed_section(p, SECTION_JIT, "jit", jit_keys,
				    COUNT_OF(jit_keys));
	} else if (section_is(start, length, "sudo")) {
		begin_fixed_section(p, SECTION_SUDO, "sudo", sudo_keys,
				    COUNT_OF(sudo_keys));
	} else if (section_is(start, length, "pam")) {
		begin_fixed_section(p, SECTION_PAM, "pam", pam_keys,
				    COUNT_OF(pam_keys));
	} else if (length >= 4 && strncmp(start, "role", 4) == 0 &&
		   (length == 4 || isspace((unsigned char)start[4]))) {
		const char *name = start + 4;

		trim(&name, &end);
		begin_role_section(p, name, (size_t)(end - name));
	} else {
		parser_fail(p, JIT_ERR_CONFIG,
			    "unknown section [%.*s]; use [jit], [sudo], [pam] or [role NAME]",
			    (int)(length < QUOTE_MAX ? length : QUOTE_MAX), start);
	}
}

/* Sorts the line just read the way inih will: comment, continuation of
 * the previous key, section header, or key line. */
static void classify_line(parser *p, const char *line)
{
	const char *start = line;

	if (p->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	while (isspace((unsigned char)*start))
		start++;

	p->continuation = false;
	if (*start == '\0' || *start == ';' || *start == '#')
		return;

	if (p->after_key && start > line) {
		p->continuation = true;
		return;
	}

	p->after_key = *start != '[';
	if (*start == '[')
		begin_section(p, start + 1);
}

/* Hands inih one whole line at a time. inih's line buffer has the fixed
 * size it was built with (INI_MAX_LINE). It would split a longer line and
 * read the tail as a line of its own, so such a line is an error here. */
static char *read_line(char *buffer, int size, void *stream)
{
	parser *p = stream;
	const char *end;
	size_t length, limit;

	if (p->error_line != 0 || *p->next == '\0')
		return NULL;

	end = strchrnul(p->next, '\n');
	length = (size_t)(end - p->next);
	p->line++;

	/* Room for the newline and the terminating NUL. */
	limit = size > 2 ? (size_t)size - 2 : 0;
	if (length > limit) {
		parser_fail(p, JIT_ERR_CONFIG,
			    "line is %zu bytes long, above the limit of %zu; continue a long list on indented lines",
			    length, limit);
		return NULL;
	}

	memcpy(buffer, p->next, length);
	if (*end == '\n')
		buffer[length++] = '\n';
	buffer[length] = '\0';
	p->next = *end == '\n' ? end + 1 : end;

	classify_line(p, buffer);
	return p->error_line != 0 ? NULL : buffer;
}

/* Reports an error that inih found on its own at line: a section header
 * without ']' or a line that is neither a key, a header nor a comment. */
static void fail_syntax(parser *p, const char *text, int line)
{
	const char *start = text;

	for (int i = 1; i < line && start != NULL; i++) {
		start = strchr(start, '\n');
		if (start != NULL)
			start++;
	}
	while (start != NULL && isspace((unsigned char)*start))
		start++;

	p->error_line = 0;
	if (start != NULL && *start == '[')
		parser_fail_at(p, line, JIT_ERR_CONFIG,
			       "section header has no closing ']'");
	else
		parser_fail_at(p, line, JIT_ERR_CONFIG,
			       "syntax error: expected 'key = value', a [section] or a comment");
}

static jit_err set_defaults(jit_config *config)
{
	static const struct {
		size_t offset;
		const char *value;
	} strings[] = {
		{ offsetof(jit_config, store), "/var/lib/jit" },
		{ offsetof(jit_config, issuer_key), "/etc/jit/issuer.key" },
		{ offsetof(jit_config, trusted_keys), "/etc/jit/trusted.d" },
		{ offsetof(jit_config, broker_socket), "/run/jit/broker.sock" },
		{ offsetof(jit_config, break_glass_group), "jit-break-glass" },
		{ offsetof(jit_config, secure_path),
		  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
		{ offsetof(jit_config, timestamp_dir), "/run/jit/ts" },
	};

	for (size_t i = 0; i < COUNT_OF(strings); i++) {
		char **slot = (char **)((char *)config + strings[i].offset);

		if (replace_string(slot, strings[i].value) != JIT_OK)
			return JIT_ERR_NOMEM;
	}

	config->clock_skew = 60;
	config->max_duration = 8 * 3600;
	config->sudo_authenticate = true;
	config->timestamp_timeout = 300;

	if (jit_strlist_append(&config->gate, "group:jit-gated") != JIT_OK ||
	    jit_strlist_append(&config->exempt, "user:root") != JIT_OK)
		return JIT_ERR_NOMEM;
	return JIT_OK;
}

static void resolve_hostname(parser *p)
{
	char name[HOST_NAME_MAX + 1];

	if (p->config->hostname != NULL)
		return;

	if (gethostname(name, sizeof(name)) < 0) {
		parser_fail_at(p, 0, JIT_ERR_IO,
			       "cannot read the host name: %s; set hostname in [jit]",
			       strerror(errno));
		return;
	}
	name[sizeof(name) - 1] = '\0';

	if (name[0] == '\0') {
		parser_fail_at(p, 0, JIT_ERR_CONFIG,
			       "the host name is empty; set hostname in [jit]");
		return;
	}
	if (replace_string(&p->config->hostname, name) != JIT_OK)
		parser_fail_at(p, 0, JIT_ERR_NOMEM, "out of memory");
}

/* Checks a role's durations against each other and the global cap once
 * every section is known, because [jit] may come after the roles. */
static void check_role_durations(parser *p, const jit_role *role,
				 const role_source *source)
{
	const jit_config *config = p->config;
	int64_t cap = role->max_duration > 0 ? role->max_duration :
					       config->max_duration;
	char value[32], limit[32];

	if (role->max_duration > config->max_duration) {
		jit_duration_format(role->max_duration, value, sizeof(value));
		jit_duration_format(config->max_duration, limit, sizeof(limit));
		parser_fail_at(p, source->max_duration_line, JIT_ERR_CONFIG,
			       "max_duration %s in [role %s] is above the global max_duration of %s",
			       value, role->name, limit);
		return;
	}

	if (role->default_duration > cap) {
		jit_duration_format(role->default_duration, value, sizeof(value));
		jit_duration_format(cap, limit, sizeof(limit));
		parser_fail_at(p, source->default_duration_line, JIT_ERR_CONFIG,
			       "default_duration %s in [role %s] is above its max_duration of %s",
			       value, role->name, limit);
	}
}

/* Counts the distinct user names in a members list; *has_groups is set
 * when it also names a %group, whose size is only known at run time. */
static size_t count_member_users(const jit_strlist *members, bool *has_groups)
{
	size_t count = 0;

	*has_groups = false;
	for (size_t i = 0; i < members->count; i++) {
		bool seen = false;

		if (members->items[i][0] == '%') {
			*has_groups = true;
			continue;
		}
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(members->items[j], members->items[i]) == 0;
		if (!seen)
			count++;
	}
	return count;
}

/* A role that can be requested must be approvable: otherwise its requests
 * would wait until they expire, with nobody able to decide them. */
static void check_role_requests(parser *p, const jit_role *role,
				const role_source *source)
{
	size_t users;
	bool groups;

	if (role->requesters.count == 0 && role->approvers.count == 0)
		return;

	if (role->approvers.count == 0) {
		parser_fail_at(p, source->requesters_line, JIT_ERR_CONFIG,
			       "[role %s] has requesters but no approvers, so nobody could approve its requests; add approvers",
			       role->name);
		return;
	}

	users = count_member_users(&role->approvers, &groups);
	if (!groups && role->approvals > users)
		parser_fail_at(p, source->approvals_line > 0 ? source->approvals_line :
						      source->approvers_line,
			       JIT_ERR_CONFIG,
			       "[role %s] needs %u approvals but names only %zu approvers; lower approvals or add approvers",
			       role->name, role->approvals, users);
}

/* Defaults break_glass_max_duration to 1h within max_duration, and
 * rejects a configured value above max_duration. */
static void check_break_glass_duration(parser *p)
{
	jit_config *config = p->config;
	char value[32], limit[32];

	if (config->break_glass_max_duration == 0) {
		config->break_glass_max_duration =
			config->max_duration < 3600 ? config->max_duration : 3600;
		return;
	}
	if (config->break_glass_max_duration <= config->max_duration)
		return;

	jit_duration_format(config->break_glass_max_duration, value, sizeof(value));
	jit_duration_format(config->max_duration, limit, sizeof(limit));
	parser_fail_at(p, p->break_glass_line, JIT_ERR_CONFIG,
		       "break_glass_max_duration %s in [jit] is above max_duration %s",
		       value, limit);
}

static void finish_config(parser *p)
{
	for (size_t i = 0; i < p->config->role_count && p->error_line == 0; i++)
		check_role_durations(p, &p->config->roles[i], &p->sources[i]);
	for (size_t i = 0; i < p->config->role_count && p->error_line == 0; i++)
		check_role_requests(p, &p->config->roles[i], &p->sources[i]);

	if (p->error_line == 0)
		check_break_glass_duration(p);
	if (p->error_line == 0)
		resolve_hostname(p);
}

jit_err jit_config_parse(const char *path, const char *text,
			 jit_config **config, jit_error *error)
{
	parser p = { .path = path, .next = text };
	jit_err r;
	int rc;

	*config = NULL;

	if (strlen(text) > JIT_CONFIG_MAX_SIZE)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "%s is larger than %d bytes", path,
				     JIT_CONFIG_MAX_SIZE);

	p.config = calloc(1, sizeof(*p.config));
	if (p.config == NULL || set_defaults(p.config) != JIT_OK ||
	    (p.config->path = strdup(path)) == NULL) {
		r = jit_error_set(error, JIT_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}

	rc = ini_parse_stream(read_line, &p, handle_pair, &p);
	if (rc == -2)
		parser_fail_at(&p, 0, JIT_ERR_NOMEM, "out of memory");
	else if (rc > 0 && (p.error_line <= 0 || rc < p.error_line))
		fail_syntax(&p, text, rc);

	if (p.error_line == 0)
		finish_config(&p);

	if (p.error_line != 0) {
		r = jit_error_set(error, p.error_code, "%s", p.message);
		goto out;
	}

	*config = p.config;
	p.config = NULL;
	r = JIT_OK;
out:
	free(p.sources);
	jit_config_free(p.config);
	return r;
}

/* Reads the whole file, failing when it is above the size limit or
 * contains a NUL byte, where inih would stop reading. */
static jit_err read_text(int fd, const char *path, char **text,
			 jit_error *error)
{
	size_t size = JIT_CONFIG_MAX_SIZE + 1, used = 0;
	char *buffer;
	jit_err r;

	*text = NULL;

	buffer = malloc(size + 1);
	if (buffer == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "%s: out of memory", path);

	while (used < size) {
		ssize_t n = read(fd, buffer + used, size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = jit_error_set(error, JIT_ERR_IO, "cannot read %s: %s",
					  path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}

	if (used > JIT_CONFIG_MAX_SIZE) {
		r = jit_error_set(error, JIT_ERR_TOO_LARGE,
				  "%s is larger than %d bytes", path,
				  JIT_CONFIG_MAX_SIZE);
		goto out;
	}
	if (memchr(buffer, '\0', used) != NULL) {
		r = jit_error_set(error, JIT_ERR_CONFIG,
				  "%s contains a NUL byte; it must be a text file",
				  path);
		goto out;
	}

	buffer[used] = '\0';
	*text = buffer;
	buffer = NULL;
	r = JIT_OK;
out:
	free(buffer);
	return r;
}

jit_err jit_config_load(const char *path, jit_config **config,
			jit_error *error)
{
	char *text = NULL;
	jit_err r;
	int fd;

	*config = NULL;

	/* O_NONBLOCK keeps a FIFO planted at path from blocking the open;
	 * the safety check then rejects anything but a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int saved = errno;

		if (saved == ENOENT)
			return jit_error_set(error, JIT_ERR_NOT_FOUND,
					     "cannot open %s: %s", path,
					     strerror(saved));
		if (saved == ELOOP)
			return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
					     "%s is a symbolic link; point the configuration at the file itself",
					     path);
		return jit_error_set(error, JIT_ERR_IO, "cannot open %s: %s",
				     path, strerror(saved));
	}

	r = jit_file_check_safe(fd, path, false, error);
	if (r != JIT_OK)
		goto out;

	r = read_text(fd, path, &text, error);
	if (r != JIT_OK)
		goto out;

	r = jit_config_parse(path, text, config, error);
out:
	free(text);
	close(fd);
	return r;
}

static void role_clear(jit_role *role)
{
	free(role->name);
	jit_strlist_clear(&role->runas);
	jit_strlist_clear(&role->runas_groups);
	jit_strlist_clear(&role->commands);
	jit_strlist_clear(&role->services);
	jit_strlist_clear(&role->hosts);
	jit_strlist_clear(&role->requesters);
	jit_strlist_clear(&role->approvers);
	free(role->reason_pattern);
}

void jit_config_free(jit_config *config)
{
	if (config == NULL)
		return;

	free(config->path);
	free(config->store);
	free(config->issuer_key);
	free(config->trusted_keys);
	free(config->hostname);
	free(config->broker_socket);
	free(config->break_glass_group);
	free(config->notify_command);
	free(config->secure_path);
	free(config->timestamp_dir);
	jit_strlist_clear(&config->gate);
	jit_strlist_clear(&config->exempt);

	for (size_t i = 0; i < config->role_count; i++)
		role_clear(&config->roles[i]);
	free(config->roles);
	free(config);
}

const jit_role *jit_config_find_role(const jit_config *config,
				     const char *name)
{
	if (config == NULL || name == NULL)
		return NULL;

	for (size_t i = 0; i < config->role_count; i++)
		if (strcmp(config->roles[i].name, name) == 0)
			return &config->roles[i];
	return NULL;
}

bool jit_config_role_authenticates(const jit_config *config,
				   const char *role_name)
{
	const jit_role *role;

	/* Without a configuration, requiring authentication is the safe choice. */
	if (config == NULL)
		return true;

	role = jit_config_find_role(config, role_name);
	if (role != NULL && role->authenticate != JIT_UNSET)
		return role->authenticate == JIT_YES;
	return config->sudo_authenticate;
}

static size_t nss_buffer_size(int name)
{
	long size = sysconf(name);

	return size > 0 && size < NSS_BUFFER_MAX ? (size_t)size : 1024;
}

/* Looks up user; only the primary group id is kept. */
static jit_err lookup_user_gid(const char *user, gid_t *gid, jit_error *error)
{
	size_t size = nss_buffer_size(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *result = NULL;
	char *buffer = NULL;
	jit_err r;
	int rc;

	for (;;) {
		char *bigger = realloc(buffer, size);

		if (bigger == NULL) {
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
			goto out;
		}
		buffer = bigger;

		rc = getpwnam_r(user, &pw, buffer, size, &result);
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}

	if (rc != 0) {
		r = jit_error_set(error, JIT_ERR_IO, "cannot look up user '%.*s': %s",
				  QUOTE_MAX, user, strerror(rc));
		goto out;
	}
	if (result == NULL) {
		r = jit_error_set(error, JIT_ERR_NOT_FOUND, "unknown user '%.*s'",
				  QUOTE_MAX, user);
		goto out;
	}

	*gid = pw.pw_gid;
	r = JIT_OK;
out:
	free(buffer);
	return r;
}

/* Looks up a group by name; *found is false when it does not exist. */
static jit_err lookup_group_gid(const char *name, gid_t *gid, bool *found,
				jit_error *error)
{
	size_t size = nss_buffer_size(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *result = NULL;
	char *buffer = NULL;
	jit_err r;
	int rc;

	*found = false;

	for (;;) {
		char *bigger = realloc(buffer, size);

		if (bigger == NULL) {
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
			goto out;
		}
		buffer = bigger;

		rc = getgrnam_r(name, &gr, buffer, size, &result);
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}

	if (rc != 0) {
		r = jit_error_set(error, JIT_ERR_IO, "cannot look up group '%.*s': %s",
				  QUOTE_MAX, name, strerror(rc));
		goto out;
	}

	if (result != NULL) {
		*gid = gr.gr_gid;
		*found = true;
	}
	r = JIT_OK;
out:
	free(buffer);
	return r;
}

/* Collects the user's primary and supplementary group ids. */
static jit_err user_groups(const char *user, gid_t primary, gid_t **groups,
			   size_t *count, jit_error *error)
{
	int size = 64;
	gid_t *list = NULL;

	*groups = NULL;
	*count = 0;

	for (;;) {
		int n = size;
		gid_t *bigger = reallocarray(list, (size_t)size, sizeof(*list));

		if (bigger == NULL) {
			free(list);
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
		}
		list = bigger;

		if (getgrouplist(user, primary, list, &n) >= 0) {
			*groups = list;
			*count = (size_t)n;
			return JIT_OK;
		}
		if (size >= GROUPS_MAX) {
			free(list);
			return jit_error_set(error, JIT_ERR_IO,
					     "cannot list the groups of user '%.*s'",
					     QUOTE_MAX, user);
		}
		size = n > size ? n : size * 2;
		if (size > GROUPS_MAX)
			size = GROUPS_MAX;
	}
}

static bool gid_listed(gid_t gid, const gid_t *groups, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Decides whether user matches any "all", "user:NAME" or "group:NAME"
 * entry of list; groups are the user's group ids. */
static jit_err principals_match(const jit_strlist *list, const char *user,
				const gid_t *groups, size_t count,
				bool *match, jit_error *error)
{
	*match = false;

	for (size_t i = 0; i < list->count && !*match; i++) {
		const char *item = list->items[i];
		bool found;
		gid_t gid;
		jit_err r;

		if (strcmp(item, "all") == 0) {
			*match = true;
		} else if (strncmp(item, "user:", 5) == 0) {
			*match = strcmp(item + 5, user) == 0;
		} else if (strncmp(item, "group:", 6) == 0) {
			r = lookup_group_gid(item + 6, &gid, &found, error);
			if (r != JIT_OK)
				return r;
			*match = found && gid_listed(gid, groups, count);
		}
	}
	return JIT_OK;
}

jit_err jit_config_user_is_gated(const jit_config *config, const char *user,
				 bool *gated, jit_error *error)
{
	gid_t primary = 0, *groups = NULL;
	size_t count = 0;
	bool exempt, listed;
	jit_err r;

	*gated = false;

	if (config == NULL || user == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "cannot decide gating without a configuration and a user name");

	r = lookup_user_gid(user, &primary, error);
	if (r != JIT_OK)
		return r;

	r = user_groups(user, primary, &groups, &count, error);
	if (r != JIT_OK)
		return r;

	r = principals_match(&config->exempt, user, groups, count, &exempt, error);
	if (r != JIT_OK)
		goto out;
	if (exempt)
		goto out;

	r = principals_match(&config->gate, user, groups, count, &listed, error);
	if (r != JIT_OK)
		goto out;
	*gated = listed;
out:
	free(groups);
	return r;
}

jit_err jit_file_check_safe(int fd, const char *path, bool secret,
			    jit_error *error)
{
	struct stat st;
	unsigned mode;

	if (fstat(fd, &st) < 0)
		return jit_error_set(error, JIT_ERR_IO, "cannot check %s: %s",
				     path, strerror(errno));

	mode = st.st_mode & 07777;

	if (!S_ISREG(st.st_mode))
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "%s is not a regular file", path);
	if (st.st_uid != 0)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "%s is owned by uid %u, not root; run chown root %s",
				     path, (unsigned)st.st_uid, path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "%s is group- or world-writable (mode %04o); run chmod go-w %s",
				     path, mode, path);
	if (secret && (st.st_mode & (S_IRGRP | S_IROTH)))
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "%s holds a secret but is readable by group or others (mode %04o); run chmod go-rwx %s",
				     path, mode, path);

	return JIT_OK;
}
