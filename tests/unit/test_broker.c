/* The broker's message parser and writer: every operation, the strict
 * rules and the size limits. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jit_err parse(const char *text, jit_broker_message *message,
		     jit_error *error)
{
	jit_error_clear(error);
	return jit_broker_parse(text, strlen(text), message, error);
}

/* Parses text, which must fail with code and a message containing part. */
static void assert_rejected(const char *text, jit_err code, const char *part)
{
	jit_broker_message message;
	jit_error error;
	jit_err r;

	r = parse(text, &message, &error);
	if (r != code)
		fail_msg("'%.80s': %s, expected %s (%s)", text, jit_err_name(r),
			 jit_err_name(code), error.message);
	if (part != NULL && strstr(error.message, part) == NULL)
		fail_msg("'%.80s': message '%s' lacks '%s'", text, error.message, part);
	for (const char *c = error.message; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20)
			fail_msg("'%.80s': the error message has a control byte", text);
	assert_null(message.role);
}

static void parses_every_operation(void **state)
{
	jit_broker_message m;
	jit_error error;

	(void)state;
	assert_int_equal(parse("{\"v\":1,\"op\":\"request\",\"role\":\"db-admin\","
			       "\"for\":\"30m\",\"reason\":\"INC-1\",\"start\":\"+1h\"}\n",
			       &m, &error), JIT_OK);
	assert_int_equal(m.op, JIT_BROKER_REQUEST);
	assert_string_equal(m.role, "db-admin");
	assert_string_equal(m.duration, "30m");
	assert_string_equal(m.reason, "INC-1");
	assert_string_equal(m.start, "+1h");
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"requests\",\"all\":true}", &m, &error),
			 JIT_OK);
	assert_true(m.all);
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"op\":\"approve\",\"v\":1,\"id\":\"ab\"}", &m, &error),
			 JIT_OK);
	assert_int_equal(m.op, JIT_BROKER_APPROVE);
	assert_string_equal(m.id, "ab");
	assert_null(m.reason);
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"break-glass\",\"for\":\"1h\",\"reason\":\"x\"}",
			       &m, &error), JIT_OK);
	assert_int_equal(m.op, JIT_BROKER_BREAK_GLASS);
	assert_null(m.role);
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"grant\",\"user\":\"alice\",\"role\":\"r\","
			       "\"reason\":\"x\",\"runas\":[\"postgres\"],"
			       "\"commands\":[\"/usr/bin/psql\",\"/usr/bin/id -u\"],"
			       "\"services\":[],\"hosts\":[\"web*\"]}", &m, &error), JIT_OK);
	assert_int_equal(m.runas.count, 1);
	assert_int_equal(m.commands.count, 2);
	assert_string_equal(m.commands.items[1], "/usr/bin/id -u");
	assert_int_equal(m.services.count, 0);
	assert_string_equal(m.hosts.items[0], "web*");
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"check\",\"command\":[\"id\",\"-u\"],"
			       "\"runas\":\"bob\",\"group\":\"adm\"}", &m, &error), JIT_OK);
	assert_string_equal(m.runas_user, "bob");
	assert_int_equal(m.command.count, 2);
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"review\",\"id\":\"ab\",\"note\":\"ok\"}",
			       &m, &error), JIT_OK);
	assert_string_equal(m.note, "ok");
	jit_broker_message_clear(&m);

	assert_int_equal(parse("{\"v\":1,\"op\":\"list\"}", &m, &error), JIT_OK);
	assert_int_equal(m.op, JIT_BROKER_LIST);
	jit_broker_message_clear(&m);
}

static void rejects_bad_structure(void **state)
{
	(void)state;
	assert_rejected("", JIT_ERR_MALFORMED, "empty");
	assert_rejected("\n", JIT_ERR_MALFORMED, "empty");
	assert_rejected("hello\n", JIT_ERR_MALFORMED, "not one JSON object");
	assert_rejected("[1,2]", JIT_ERR_MALFORMED, "must be a JSON object");
	assert_rejected("\"text\"", JIT_ERR_MALFORMED, NULL);
	assert_rejected("{\"v\":1,\"op\":\"list\"", JIT_ERR_MALFORMED, "ends before");
	assert_rejected("{\"v\":1,\"op\":\"li", JIT_ERR_MALFORMED, "ends before");
	assert_rejected("{\"v\":1,\"op\":\"list\"}{\"v\":1}", JIT_ERR_MALFORMED, NULL);
	assert_rejected("{\"v\":1,\"op\":\"list\"} x", JIT_ERR_MALFORMED, NULL);
	assert_rejected("{\"v\":1,\"op\":\"list\"}\n{\"v\":1,\"op\":\"list\"}\n",
			JIT_ERR_MALFORMED, "one line");
	assert_rejected("{\"v\":1,\"op\":\"list\",}", JIT_ERR_MALFORMED, NULL);
	assert_rejected("{'v':1,'op':'list'}", JIT_ERR_MALFORMED, NULL);
	assert_rejected("{\"v\":1,\"op\":\"check\",\"command\":[[\"id\"]]}",
			JIT_ERR_MALFORMED, NULL);
}

static void rejects_bad_header(void **state)
{
	(void)state;
	assert_rejected("{\"op\":\"list\"}", JIT_ERR_MALFORMED, "\"v\"");
	assert_rejected("{\"v\":2,\"op\":\"list\"}", JIT_ERR_MALFORMED, "\"v\"");
	assert_rejected("{\"v\":\"1\",\"op\":\"list\"}", JIT_ERR_MALFORMED, "\"v\"");
	assert_rejected("{\"v\":1.0,\"op\":\"list\"}", JIT_ERR_MALFORMED, "\"v\"");
	assert_rejected("{\"v\":1}", JIT_ERR_MALFORMED, "\"op\"");
	assert_rejected("{\"v\":1,\"op\":7}", JIT_ERR_MALFORMED, "\"op\"");
	assert_rejected("{\"v\":1,\"op\":\"sudo\"}", JIT_ERR_MALFORMED,
			"unknown operation \"sudo\"");
	assert_rejected("{\"v\":1,\"op\":\"list\\u0000x\"}", JIT_ERR_MALFORMED,
			"unknown operation");
	assert_rejected("{\"v\":1,\"op\":\"\\u001b[31mred\"}", JIT_ERR_MALFORMED,
			"unknown operation \"?[31mred\"");
}

static void rejects_bad_fields(void **state)
{
	(void)state;
	assert_rejected("{\"v\":1,\"op\":\"list\",\"user\":\"root\"}", JIT_ERR_MALFORMED,
			"unknown field \"user\" for operation list");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"reason\":\"x\"}", JIT_ERR_MALFORMED,
			"operation request needs field \"role\"");
	assert_rejected("{\"v\":1,\"op\":\"deny\",\"id\":\"a\"}", JIT_ERR_MALFORMED,
			"needs field \"reason\"");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"role\":5,\"reason\":\"x\"}",
			JIT_ERR_MALFORMED, "\"role\" must be a string");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"role\":null,\"reason\":\"x\"}",
			JIT_ERR_MALFORMED, "must be a string");
	assert_rejected("{\"v\":1,\"op\":\"requests\",\"all\":1}", JIT_ERR_MALFORMED,
			"true or false");
	assert_rejected("{\"v\":1,\"op\":\"grant\",\"user\":\"a\",\"role\":\"r\","
			"\"reason\":\"x\",\"runas\":\"root\"}", JIT_ERR_MALFORMED,
			"array of strings");
	assert_rejected("{\"v\":1,\"op\":\"grant\",\"user\":\"a\",\"role\":\"r\","
			"\"reason\":\"x\",\"commands\":[1]}", JIT_ERR_MALFORMED,
			"array of strings");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"role\":\"r\",\"reason\":\"a\\nb\"}",
			JIT_ERR_MALFORMED, "control character");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"role\":\"r\",\"reason\":\"a\\u0000b\"}",
			JIT_ERR_MALFORMED, "NUL");
	assert_rejected("{\"v\":1,\"op\":\"request\",\"role\":\"r\",\"reason\":\"\xff\xfe\"}",
			JIT_ERR_MALFORMED, NULL);
	assert_rejected("{\"v\":1,\"op\":\"list\",\"\\u0007bell\":1}", JIT_ERR_MALFORMED,
			"unknown field \"?bell\"");
}

static void check_needs_one_kind_of_access(void **state)
{
	(void)state;
	assert_rejected("{\"v\":1,\"op\":\"check\"}", JIT_ERR_MALFORMED,
			"needs \"service\", \"command\" or \"shell\"");
	assert_rejected("{\"v\":1,\"op\":\"check\",\"service\":\"sshd\",\"command\":[\"id\"]}",
			JIT_ERR_MALFORMED, "not both");
	assert_rejected("{\"v\":1,\"op\":\"check\",\"service\":\"sshd\",\"runas\":\"bob\"}",
			JIT_ERR_MALFORMED, "not both");
	assert_rejected("{\"v\":1,\"op\":\"check\",\"shell\":true,\"command\":[\"id\"]}",
			JIT_ERR_MALFORMED, "not both");
}

static char *repeat(char c, size_t n)
{
	char *text = malloc(n + 1);

	assert_non_null(text);
	memset(text, c, n);
	text[n] = '\0';
	return text;
}

static void enforces_size_limits(void **state)
{
	jit_broker_message m;
	jit_error error;
	char *big = repeat('a', JIT_BROKER_MESSAGE_MAX + 1);
	char *text = NULL, *value;

	(void)state;
	assert_int_equal(jit_broker_parse(big, strlen(big), &m, &error),
			 JIT_ERR_TOO_LARGE);
	free(big);

	value = repeat('r', JIT_BROKER_STRING_MAX + 1);
	assert_true(asprintf(&text, "{\"v\":1,\"op\":\"request\",\"role\":\"%s\",\"reason\":\"x\"}",
			     value) > 0);
	assert_rejected(text, JIT_ERR_TOO_LARGE, "\"role\" is 4097 bytes long");
	free(text);
	value[JIT_BROKER_STRING_MAX] = '\0';
	assert_true(asprintf(&text, "{\"v\":1,\"op\":\"request\",\"role\":\"%s\",\"reason\":\"x\"}",
			     value) > 0);
	assert_int_equal(parse(text, &m, &error), JIT_OK);
	jit_broker_message_clear(&m);
	free(text);
	free(value);

	/* An array of JIT_BROKER_ARRAY_MAX items passes, one more does not. */
	text = strdup("{\"v\":1,\"op\":\"check\",\"command\":[\"id\"");
	for (int i = 1; i <= JIT_BROKER_ARRAY_MAX; i++) {
		char *longer = NULL;

		assert_true(asprintf(&longer, "%s,\"a\"", text) > 0);
		free(text);
		text = longer;
	}
	value = NULL;
	assert_true(asprintf(&value, "%s]}", text) > 0);
	assert_rejected(value, JIT_ERR_TOO_LARGE, "65 items");
	free(value);
	text[strlen(text) - 4] = '\0';
	assert_true(asprintf(&value, "%s]}", text) > 0);
	assert_int_equal(parse(value, &m, &error), JIT_OK);
	assert_int_equal(m.command.count, JIT_BROKER_ARRAY_MAX);
	jit_broker_message_clear(&m);
	free(value);
	free(text);
}

static void format_parses_back(void **state)
{
	jit_broker_message in = {
		.op = JIT_BROKER_GRANT,
		.user = "alice",
		.role = "db-admin",
		.duration = "30m",
		.reason = "INC-1 \"quoted\" \\ and / slash",
		.start = "2026-12-05T14:00:00Z",
	};
	jit_broker_message out;
	jit_error error;
	char *text = NULL;

	(void)state;
	assert_int_equal(jit_strlist_append(&in.commands, "/usr/bin/psql -c 'select 1'"), JIT_OK);
	assert_int_equal(jit_broker_format(&in, &text, &error), JIT_OK);
	assert_non_null(strchr(text, '\n'));
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	assert_int_equal(jit_broker_parse(text, strlen(text), &out, &error), JIT_OK);
	assert_int_equal(out.op, JIT_BROKER_GRANT);
	assert_string_equal(out.user, in.user);
	assert_string_equal(out.reason, in.reason);
	assert_string_equal(out.start, in.start);
	assert_int_equal(out.commands.count, 1);
	assert_string_equal(out.commands.items[0], in.commands.items[0]);
	assert_null(out.note);
	jit_broker_message_clear(&out);
	jit_strlist_clear(&in.commands);
	free(text);

	/* Every operation writes something it reads back. */
	for (int op = 0; op < JIT_BROKER_OP_COUNT; op++) {
		jit_broker_message m = {
			.op = (jit_broker_op)op, .role = "r", .duration = "1h",
			.reason = "x", .id = "ab", .user = "u", .note = "n",
			.service = op == JIT_BROKER_CHECK ? "sshd" : NULL,
		};

		assert_non_null(jit_broker_op_name((jit_broker_op)op));
		assert_int_equal(jit_broker_format(&m, &text, &error), JIT_OK);
		if (jit_broker_parse(text, strlen(text), &out, &error) != JIT_OK)
			fail_msg("%s: '%s' does not parse: %s",
				 jit_broker_op_name((jit_broker_op)op), text,
				 error.message);
		assert_int_equal(out.op, op);
		jit_broker_message_clear(&out);
		free(text);
	}
	assert_null(jit_broker_op_name(JIT_BROKER_OP_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_every_operation),
		cmocka_unit_test(rejects_bad_structure),
		cmocka_unit_test(rejects_bad_header),
		cmocka_unit_test(rejects_bad_fields),
		cmocka_unit_test(check_needs_one_kind_of_access),
		cmocka_unit_test(enforces_size_limits),
		cmocka_unit_test(format_parses_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
