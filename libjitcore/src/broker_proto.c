/* Parsing and writing broker messages with json-c, table-driven: each
 * field names the operations that take it and those that need it. */
#include "jit/broker.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of an unknown key quoted in an error message. */
#define KEY_QUOTE_MAX 32

#define OP(op) (1u << (op))

typedef enum field_type {
	FIELD_STRING,
	FIELD_BOOL,
	FIELD_STRINGS,
} field_type;

typedef struct field_spec {
	const char *name;
	field_type type;
	size_t offset;            /* into jit_broker_message */
	unsigned allowed;         /* OP() bits of the operations taking it */
	unsigned required;        /* OP() bits of those that need it */
} field_spec;

#define FIELD(name, type, member, allowed, required) \
	{ name, type, offsetof(jit_broker_message, member), allowed, required }

static const char *const op_names[JIT_BROKER_OP_COUNT] = {
	[JIT_BROKER_REQUEST] = "request",
	[JIT_BROKER_REQUESTS] = "requests",
	[JIT_BROKER_APPROVE] = "approve",
	[JIT_BROKER_DENY] = "deny",
	[JIT_BROKER_CANCEL] = "cancel",
	[JIT_BROKER_BREAK_GLASS] = "break-glass",
	[JIT_BROKER_GRANT] = "grant",
	[JIT_BROKER_LIST] = "list",
	[JIT_BROKER_CHECK] = "check",
	[JIT_BROKER_REVIEW] = "review",
};

/* "runas" is a list of users for grant and one user for check, so it has
 * a row for each. */
static const field_spec fields[] = {
	FIELD("role", FIELD_STRING, role,
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_BREAK_GLASS) | OP(JIT_BROKER_GRANT),
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_GRANT)),
	FIELD("for", FIELD_STRING, duration,
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_BREAK_GLASS) | OP(JIT_BROKER_GRANT),
	      OP(JIT_BROKER_BREAK_GLASS)),
	FIELD("reason", FIELD_STRING, reason,
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_APPROVE) | OP(JIT_BROKER_DENY) |
	      OP(JIT_BROKER_CANCEL) | OP(JIT_BROKER_BREAK_GLASS) | OP(JIT_BROKER_GRANT),
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_DENY) |
	      OP(JIT_BROKER_BREAK_GLASS) | OP(JIT_BROKER_GRANT)),
	FIELD("start", FIELD_STRING, start,
	      OP(JIT_BROKER_REQUEST) | OP(JIT_BROKER_GRANT), 0),
	FIELD("id", FIELD_STRING, id,
	      OP(JIT_BROKER_APPROVE) | OP(JIT_BROKER_DENY) | OP(JIT_BROKER_CANCEL) |
	      OP(JIT_BROKER_REVIEW),
	      OP(JIT_BROKER_APPROVE) | OP(JIT_BROKER_DENY) | OP(JIT_BROKER_CANCEL) |
	      OP(JIT_BROKER_REVIEW)),
	FIELD("user", FIELD_STRING, user, OP(JIT_BROKER_GRANT), OP(JIT_BROKER_GRANT)),
	FIELD("note", FIELD_STRING, note, OP(JIT_BROKER_REVIEW), OP(JIT_BROKER_REVIEW)),
	FIELD("all", FIELD_BOOL, all, OP(JIT_BROKER_REQUESTS) | OP(JIT_BROKER_LIST), 0),
	FIELD("runas", FIELD_STRINGS, runas, OP(JIT_BROKER_GRANT), 0),
	FIELD("commands", FIELD_STRINGS, commands, OP(JIT_BROKER_GRANT), 0),
	FIELD("services", FIELD_STRINGS, services, OP(JIT_BROKER_GRANT), 0),
	FIELD("hosts", FIELD_STRINGS, hosts, OP(JIT_BROKER_GRANT), 0),
	FIELD("service", FIELD_STRING, service, OP(JIT_BROKER_CHECK), 0),
	FIELD("command", FIELD_STRINGS, command, OP(JIT_BROKER_CHECK), 0),
	FIELD("runas", FIELD_STRING, runas_user, OP(JIT_BROKER_CHECK), 0),
	FIELD("group", FIELD_STRING, group, OP(JIT_BROKER_CHECK), 0),
	FIELD("shell", FIELD_BOOL, shell, OP(JIT_BROKER_CHECK), 0),
};

#define FIELD_COUNT (sizeof(fields) / sizeof(fields[0]))

const char *jit_broker_op_name(jit_broker_op op)
{
	return (int)op >= 0 && op < JIT_BROKER_OP_COUNT ? op_names[op] : NULL;
}

void jit_broker_message_clear(jit_broker_message *message)
{
	if (message == NULL)
		return;
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		void *slot = (char *)message + fields[i].offset;

		if (fields[i].type == FIELD_STRING)
			free(*(char **)slot);
		else if (fields[i].type == FIELD_STRINGS)
			jit_strlist_clear(slot);
	}
	memset(message, 0, sizeof(*message));
}

/* Writes key into out with anything unprintable replaced, so that an
 * error message never carries the client's control bytes. */
static void quote_key(const char *key, char out[KEY_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; key[i] != '\0' && i < KEY_QUOTE_MAX; i++)
		out[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
	if (key[i] != '\0')
		strcpy(out + i, "...");
	else
		out[i] = '\0';
}

/* Checks a string value: at most JIT_BROKER_STRING_MAX bytes, no NUL
 * (json allows \u0000) and no control character. */
static jit_err check_string(json_object *value, const char *field,
			    jit_error *error)
{
	const char *text = json_object_get_string(value);
	size_t len = (size_t)json_object_get_string_len(value);

	if (len > JIT_BROKER_STRING_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "field \"%s\" is %zu bytes long, above the limit of %d",
				     field, len, JIT_BROKER_STRING_MAX);
	if (strlen(text) != len)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "field \"%s\" contains a NUL character", field);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "field \"%s\" contains a control character",
					     field);
	return JIT_OK;
}

static jit_err take_string(json_object *value, const char *field,
			   char **slot, jit_error *error)
{
	jit_err r;

	if (!json_object_is_type(value, json_type_string))
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "field \"%s\" must be a string", field);
	r = check_string(value, field, error);
	if (r != JIT_OK)
		return r;

	*slot = strdup(json_object_get_string(value));
	if (*slot == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	return JIT_OK;
}

static jit_err take_strings(json_object *value, const char *field,
			    jit_strlist *slot, jit_error *error)
{
	size_t count;
	jit_err r;

	if (!json_object_is_type(value, json_type_array))
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "field \"%s\" must be an array of strings",
				     field);
	count = json_object_array_length(value);
	if (count > JIT_BROKER_ARRAY_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "field \"%s\" has %zu items, above the limit of %d",
				     field, count, JIT_BROKER_ARRAY_MAX);

	for (size_t i = 0; i < count; i++) {
		json_object *item = json_object_array_get_idx(value, i);

		if (!json_object_is_type(item, json_type_string))
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "field \"%s\" must be an array of strings",
					     field);
		r = check_string(item, field, error);
		if (r != JIT_OK)
			return r;
		if (jit_strlist_append(slot, json_object_get_string(item)) != JIT_OK)
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	return JIT_OK;
}

static jit_err take_field(const field_spec *spec, json_object *value,
			  jit_broker_message *message, jit_error *error)
{
	void *slot = (char *)message + spec->offset;

	switch (spec->type) {
	case FIELD_STRING:
		return take_string(value, spec->name, slot, error);
	case FIELD_STRINGS:
		return take_strings(value, spec->name, slot, error);
	case FIELD_BOOL:
		if (!json_object_is_type(value, json_type_boolean))
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "field \"%s\" must be true or false",
					     spec->name);
		*(bool *)slot = json_object_get_boolean(value);
		return JIT_OK;
	}
	return JIT_ERR_INVALID;
}

static const field_spec *find_field(const char *name, jit_broker_op op)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if ((fields[i].allowed & OP(op)) && strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Reads "v" and "op", which every message has. */
static jit_err read_header(json_object *object, jit_broker_op *op,
			   jit_error *error)
{
	json_object *version = NULL, *name = NULL;
	char quoted[KEY_QUOTE_MAX + 4];
	const char *text;

	if (!json_object_object_get_ex(object, "v", &version) ||
	    !json_object_is_type(version, json_type_int) ||
	    json_object_get_int64(version) != JIT_BROKER_VERSION)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "field \"v\" must be the number %d",
				     JIT_BROKER_VERSION);
	if (!json_object_object_get_ex(object, "op", &name) ||
	    !json_object_is_type(name, json_type_string))
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "field \"op\" must be a string naming the operation");

	text = json_object_get_string(name);
	for (int i = 0; i < JIT_BROKER_OP_COUNT; i++) {
		if (strcmp(text, op_names[i]) == 0 &&
		    strlen(text) == (size_t)json_object_get_string_len(name)) {
			*op = (jit_broker_op)i;
			return JIT_OK;
		}
	}

	quote_key(text, quoted);
	return jit_error_set(error, JIT_ERR_MALFORMED, "unknown operation \"%s\"",
			     quoted);
}

/* Checks what one operation needs beyond the field table. */
static jit_err check_operation(const jit_broker_message *message,
			       jit_error *error)
{
	if (message->op != JIT_BROKER_CHECK)
		return JIT_OK;
	if (message->service != NULL &&
	    (message->command.count > 0 || message->shell ||
	     message->runas_user != NULL || message->group != NULL))
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "check takes either \"service\" or a command, not both");
	if (message->service == NULL && message->command.count == 0 &&
	    !message->shell)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "check needs \"service\", \"command\" or \"shell\"");
	if (message->shell && message->command.count > 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "check takes \"shell\" or \"command\", not both");
	return JIT_OK;
}

static jit_err read_fields(json_object *object, jit_broker_message *message,
			   jit_error *error)
{
	char quoted[KEY_QUOTE_MAX + 4];
	unsigned seen_required = 0;
	jit_err r = JIT_OK;

	json_object_object_foreach(object, key, value) {
		const field_spec *spec;

		if (strcmp(key, "v") == 0 || strcmp(key, "op") == 0)
			continue;
		spec = find_field(key, message->op);
		if (spec == NULL) {
			quote_key(key, quoted);
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "unknown field \"%s\" for operation %s",
					     quoted, op_names[message->op]);
		}
		r = take_field(spec, value, message, error);
		if (r != JIT_OK)
			return r;
		if (spec->required & OP(message->op))
			seen_required |= 1u << (spec - fields);
	}

	for (size_t i = 0; i < FIELD_COUNT; i++)
		if ((fields[i].required & OP(message->op)) &&
		    !(seen_required & (1u << i)))
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "operation %s needs field \"%s\"",
					     op_names[message->op], fields[i].name);
	return check_operation(message, error);
}

/* Parses data as exactly one JSON object, nothing before or after it. */
static jit_err parse_object(const char *data, size_t len, json_object **out,
			    jit_error *error)
{
	enum json_tokener_error code;
	json_tokener *tokener;
	json_object *object;

	*out = NULL;
	tokener = json_tokener_new_ex(JIT_BROKER_DEPTH_MAX);
	if (tokener == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	json_tokener_set_flags(tokener, JSON_TOKENER_STRICT |
					JSON_TOKENER_VALIDATE_UTF8);

	object = json_tokener_parse_ex(tokener, data, (int)len);
	code = json_tokener_get_error(tokener);
	if (object != NULL && json_tokener_get_parse_end(tokener) != len)
		code = json_tokener_error_parse_unexpected;
	json_tokener_free(tokener);

	if (code == json_tokener_continue || (object == NULL && code == json_tokener_success)) {
		json_object_put(object);
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "the message ends before its JSON object does");
	}
	if (code != json_tokener_success) {
		json_object_put(object);
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "the message is not one JSON object: %s",
				     json_tokener_error_desc(code));
	}
	if (!json_object_is_type(object, json_type_object)) {
		json_object_put(object);
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "the message must be a JSON object");
	}
	*out = object;
	return JIT_OK;
}

jit_err jit_broker_parse(const char *data, size_t len,
			 jit_broker_message *message, jit_error *error)
{
	jit_broker_message parsed = { 0 };
	json_object *object = NULL;
	jit_err r;

	memset(message, 0, sizeof(*message));
	if (len > JIT_BROKER_MESSAGE_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "the message is %zu bytes long, above the limit of %d",
				     len, JIT_BROKER_MESSAGE_MAX);
	if (len > 0 && data[len - 1] == '\n')
		len--;
	if (len == 0)
		return jit_error_set(error, JIT_ERR_MALFORMED, "the message is empty");
	if (memchr(data, '\n', len) != NULL || memchr(data, '\0', len) != NULL)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "the message must be one line of JSON without NUL bytes");

	r = parse_object(data, len, &object, error);
	if (r == JIT_OK)
		r = read_header(object, &parsed.op, error);
	if (r == JIT_OK)
		r = read_fields(object, &parsed, error);
	json_object_put(object);

	if (r != JIT_OK) {
		jit_broker_message_clear(&parsed);
		return r;
	}
	*message = parsed;
	return JIT_OK;
}

static json_object *strings_json(const jit_strlist *list)
{
	json_object *array = json_object_new_array();

	for (size_t i = 0; array != NULL && i < list->count; i++) {
		json_object *item = json_object_new_string(list->items[i]);

		if (item == NULL || json_object_array_add(array, item) < 0) {
			json_object_put(item);
			json_object_put(array);
			return NULL;
		}
	}
	return array;
}

/* Returns the JSON of a set field, NULL when it is unset, and sets
 * *failed when memory ran out. */
static json_object *field_json(const field_spec *spec,
			       const jit_broker_message *message, bool *failed)
{
	const void *slot = (const char *)message + spec->offset;
	json_object *value = NULL;

	switch (spec->type) {
	case FIELD_STRING:
		if (*(char *const *)slot == NULL)
			return NULL;
		value = json_object_new_string(*(char *const *)slot);
		break;
	case FIELD_BOOL:
		if (!*(const bool *)slot)
			return NULL;
		value = json_object_new_boolean(true);
		break;
	case FIELD_STRINGS:
		if (((const jit_strlist *)slot)->count == 0)
			return NULL;
		value = strings_json(slot);
		break;
	}
	if (value == NULL)
		*failed = true;
	return value;
}

static void add_value(json_object *object, const char *key,
		      json_object *value, bool *failed)
{
	if (value == NULL || json_object_object_add(object, key, value) < 0) {
		json_object_put(value);
		*failed = true;
	}
}

jit_err jit_broker_format(const jit_broker_message *message, char **text,
			  jit_error *error)
{
	const char *name = jit_broker_op_name(message->op);
	json_object *object;
	const char *json;
	bool failed = false;

	*text = NULL;
	if (name == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "writing a broker message failed: unknown operation");

	object = json_object_new_object();
	if (object == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	add_value(object, "v", json_object_new_int(JIT_BROKER_VERSION), &failed);
	add_value(object, "op", json_object_new_string(name), &failed);
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		json_object *value;

		if (!(fields[i].allowed & OP(message->op)))
			continue;
		value = field_json(&fields[i], message, &failed);
		if (value != NULL)
			add_value(object, fields[i].name, value, &failed);
	}

	json = failed ? NULL : json_object_to_json_string_ext(object,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (json == NULL || asprintf(text, "%s\n", json) < 0) {
		*text = NULL;
		json_object_put(object);
		return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	json_object_put(object);
	return JIT_OK;
}
