/* Fuzz target for the broker's message parser, jit_broker_parse, and its
 * writer, jit_broker_format.
 *
 * The input is the message's raw bytes, NUL bytes included, exactly as the
 * broker reads them from a client. The oracles:
 * - a failure is JIT_ERR_MALFORMED or JIT_ERR_TOO_LARGE with a message
 *   free of control bytes, so that no client can forge a log line;
 * - a message that parses holds only what the rules allow: an operation in
 *   range, strings within JIT_BROKER_STRING_MAX bytes and free of control
 *   bytes, at most JIT_BROKER_ARRAY_MAX items per array;
 * - written back with jit_broker_format, it is one line that parses again
 *   to the same message. */
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "jit/broker.h"

static const jit_err parse_errors[] = {
	JIT_ERR_MALFORMED, JIT_ERR_TOO_LARGE, JIT_OK
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_string(const char *name, const char *value)
{
	if (value == NULL)
		return;
	if (strlen(value) > JIT_BROKER_STRING_MAX)
		fuzz_fail("field %s is longer than the limit", name);
	if (fuzz_has_control(value))
		fuzz_fail("field %s kept a control character", name);
}

static void check_list(const char *name, const jit_strlist *list)
{
	if (list->count > JIT_BROKER_ARRAY_MAX)
		fuzz_fail("field %s has %zu items", name, list->count);
	for (size_t i = 0; i < list->count; i++)
		check_string(name, list->items[i]);
}

static void check_message(const jit_broker_message *m)
{
	if (jit_broker_op_name(m->op) == NULL)
		fuzz_fail("operation %d is out of range", (int)m->op);
	check_string("role", m->role);
	check_string("for", m->duration);
	check_string("reason", m->reason);
	check_string("start", m->start);
	check_string("id", m->id);
	check_string("user", m->user);
	check_string("service", m->service);
	check_string("group", m->group);
	check_string("runas", m->runas_user);
	check_string("note", m->note);
	check_list("runas", &m->runas);
	check_list("commands", &m->commands);
	check_list("services", &m->services);
	check_list("hosts", &m->hosts);
	check_list("command", &m->command);
}

static bool same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool same_list(const jit_strlist *a, const jit_strlist *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

static bool same_message(const jit_broker_message *a, const jit_broker_message *b)
{
	return a->op == b->op && a->all == b->all && a->shell == b->shell &&
	       same_string(a->role, b->role) &&
	       same_string(a->duration, b->duration) &&
	       same_string(a->reason, b->reason) &&
	       same_string(a->start, b->start) && same_string(a->id, b->id) &&
	       same_string(a->user, b->user) &&
	       same_string(a->service, b->service) &&
	       same_string(a->group, b->group) &&
	       same_string(a->runas_user, b->runas_user) &&
	       same_string(a->note, b->note) && same_list(&a->runas, &b->runas) &&
	       same_list(&a->commands, &b->commands) &&
	       same_list(&a->services, &b->services) &&
	       same_list(&a->hosts, &b->hosts) &&
	       same_list(&a->command, &b->command);
}

static void check_round_trip(const jit_broker_message *message)
{
	jit_broker_message again;
	char *text = NULL;
	jit_error error;
	size_t len;

	if (jit_broker_format(message, &text, &error) != JIT_OK)
		fuzz_fail("a parsed message does not format: %s", error.message);
	len = strlen(text);
	if (len == 0 || text[len - 1] != '\n' || memchr(text, '\n', len - 1) != NULL)
		fuzz_fail("a formatted message is not one line");
	if (jit_broker_parse(text, len, &again, &error) != JIT_OK)
		fuzz_fail("a formatted message does not parse: %s (%s)",
			  error.message, text);
	if (!same_message(message, &again))
		fuzz_fail("a message parses back differently: %s", text);
	jit_broker_message_clear(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jit_broker_message message;
	jit_error error;
	jit_err r;

	jit_error_clear(&error);
	r = jit_broker_parse((const char *)data, size, &message, &error);
	if (r != JIT_OK) {
		fuzz_check_error("jit_broker_parse", r, &error, true, parse_errors);
		return 0;
	}

	check_message(&message);
	check_round_trip(&message);
	jit_broker_message_clear(&message);
	return 0;
}
