#include "testlib.h"

#include <errno.h>
#include <regex.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#define GRANT_ID "3f2a9c0d5e6b7a8f9e0d1c2b3a4f5e6d"
#define BIG_VALUE_SIZE (200 * 1024)

static const char *const standard_fields[] = {
	"MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER",
};

/* An event of the given type with every field set. */
static jit_event full_event(jit_event_type type)
{
	jit_event ev = {
		.type = type,
		.reason = type == JIT_EVENT_ACCESS_DENIED ?
			JIT_REASON_NO_GRANT : JIT_REASON_ALLOW,
		.detail = "no active grant for service sshd",
		.grant_id = GRANT_ID,
		.request_id = "r-42",
		.user = "alice",
		.actor = "root",
		.role = "db-admin",
		.justification = "INC-1234 restart the database",
		.service = "sshd",
		.command = "/usr/bin/systemctl status nginx",
		.runas = "root",
		.tty = "/dev/pts/3",
		.rhost = "192.0.2.7",
		.expires = 1796415300,
	};

	return ev;
}

static void build(const jit_event *ev, jit_strlist *fields)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_event_build(ev, fields, &error) != JIT_OK)
		fail_msg("building %s failed: %s", jit_event_name(ev->type),
			 error.message);
}

/* Returns the value of field name, or NULL; fails when it occurs twice. */
static const char *field(const jit_strlist *fields, const char *name)
{
	size_t length = strlen(name);
	const char *value = NULL;

	for (size_t i = 0; i < fields->count; i++) {
		const char *item = fields->items[i];

		if (strncmp(item, name, length) != 0 || item[length] != '=')
			continue;
		if (value != NULL)
			fail_msg("field %s occurs twice", name);
		value = item + length + 1;
	}
	return value;
}

static bool is_standard_field(const char *name, size_t length)
{
	for (size_t i = 0; i < sizeof(standard_fields) / sizeof(standard_fields[0]); i++)
		if (strlen(standard_fields[i]) == length &&
		    strncmp(standard_fields[i], name, length) == 0)
			return true;
	return false;
}

static void assert_field_names(const jit_strlist *fields)
{
	regex_t regex;

	assert_int_equal(regcomp(&regex, "^[A-Z0-9][A-Z0-9_]*$",
				 REG_EXTENDED | REG_NOSUB), 0);

	for (size_t i = 0; i < fields->count; i++) {
		const char *item = fields->items[i];
		const char *equals = strchr(item, '=');
		char name[128];
		size_t length;

		assert_non_null(equals);
		length = (size_t)(equals - item);
		assert_true(length > 0 && length < sizeof(name));
		memcpy(name, item, length);
		name[length] = '\0';

		if (regexec(&regex, name, 0, NULL, 0) != 0)
			fail_msg("field name '%s' is not a valid journal field name", name);
		if (!is_standard_field(name, length) && strncmp(name, "JIT_", 4) != 0)
			fail_msg("field name '%s' lacks the JIT_ prefix", name);
	}
	regfree(&regex);
}

static void test_every_event_has_valid_fields(void **state)
{
	(void)state;
	for (int type = 0; type < JIT_EVENT_TYPE_COUNT; type++) {
		jit_event ev = full_event((jit_event_type)type);
		jit_strlist fields = { 0 };
		char priority[8];

		build(&ev, &fields);
		assert_field_names(&fields);

		assert_non_null(field(&fields, "MESSAGE"));
		assert_string_equal(field(&fields, "MESSAGE_ID"),
				    jit_event_message_id(ev.type));
		snprintf(priority, sizeof(priority), "%d", jit_event_priority(ev.type));
		assert_string_equal(field(&fields, "PRIORITY"), priority);
		assert_string_equal(field(&fields, "SYSLOG_IDENTIFIER"), "jit");
		assert_string_equal(field(&fields, "JIT_EVENT"), jit_event_name(ev.type));
		assert_string_equal(field(&fields, "JIT_GRANT_ID"), GRANT_ID);
		assert_string_equal(field(&fields, "JIT_REQUEST_ID"), "r-42");
		assert_string_equal(field(&fields, "JIT_USER"), "alice");
		assert_string_equal(field(&fields, "JIT_ACTOR"), "root");
		assert_string_equal(field(&fields, "JIT_ROLE"), "db-admin");
		assert_string_equal(field(&fields, "JIT_REASON"), "INC-1234 restart the database");
		assert_string_equal(field(&fields, "JIT_SERVICE"), "sshd");
		assert_string_equal(field(&fields, "JIT_COMMAND"), "/usr/bin/systemctl status nginx");
		assert_string_equal(field(&fields, "JIT_RUNAS"), "root");
		assert_string_equal(field(&fields, "JIT_TTY"), "/dev/pts/3");
		assert_string_equal(field(&fields, "JIT_RHOST"), "192.0.2.7");
		assert_string_equal(field(&fields, "JIT_DETAIL"), "no active grant for service sshd");
		assert_string_equal(field(&fields, "JIT_EXPIRES"), "2026-12-04T20:15:00Z");
		jit_strlist_clear(&fields);
	}
}

static void test_decision_fields(void **state)
{
	jit_event allowed = full_event(JIT_EVENT_ACCESS_ALLOWED);
	jit_event denied = full_event(JIT_EVENT_ACCESS_DENIED);
	jit_event issued = full_event(JIT_EVENT_GRANT_ISSUED);
	jit_strlist fields = { 0 };

	(void)state;
	build(&allowed, &fields);
	assert_string_equal(field(&fields, "JIT_DECISION"), "allow");
	assert_null(field(&fields, "JIT_DENY_REASON"));
	jit_strlist_clear(&fields);

	build(&denied, &fields);
	assert_string_equal(field(&fields, "JIT_DECISION"), "deny");
	assert_string_equal(field(&fields, "JIT_DENY_REASON"), "no-grant");
	jit_strlist_clear(&fields);

	build(&issued, &fields);
	assert_null(field(&fields, "JIT_DECISION"));
	assert_null(field(&fields, "JIT_DENY_REASON"));
	jit_strlist_clear(&fields);
}

static void test_message_ids_distinct_hex(void **state)
{
	(void)state;
	for (int a = 0; a < JIT_EVENT_TYPE_COUNT; a++) {
		const char *id = jit_event_message_id((jit_event_type)a);

		assert_non_null(id);
		assert_int_equal(strlen(id), 32);
		assert_int_equal(strspn(id, "0123456789abcdef"), 32);
		for (int b = 0; b < a; b++)
			assert_string_not_equal(id, jit_event_message_id((jit_event_type)b));
	}
}

static void test_fixed_names_ids_and_priorities(void **state)
{
	(void)state;
	assert_string_equal(jit_event_name(JIT_EVENT_ACCESS_ALLOWED), "access-allowed");
	assert_string_equal(jit_event_message_id(JIT_EVENT_ACCESS_ALLOWED),
			    "503d95e270c049ff98b4836fc6acef1f");
	assert_string_equal(jit_event_name(JIT_EVENT_ACCESS_DENIED), "access-denied");
	assert_string_equal(jit_event_message_id(JIT_EVENT_ACCESS_DENIED),
			    "c01ce38c8b744db6befe7002db254cbf");
	assert_string_equal(jit_event_name(JIT_EVENT_GRANT_ISSUED), "grant-issued");
	assert_string_equal(jit_event_message_id(JIT_EVENT_GRANT_ISSUED),
			    "b97530e66b7e4f9abb9de2fd56b468b1");
	assert_string_equal(jit_event_name(JIT_EVENT_GRANT_IMPORTED), "grant-imported");
	assert_string_equal(jit_event_message_id(JIT_EVENT_GRANT_IMPORTED),
			    "9170ffa1d243439cb49a21b776d73770");
	assert_string_equal(jit_event_name(JIT_EVENT_GRANT_REVOKED), "grant-revoked");
	assert_string_equal(jit_event_message_id(JIT_EVENT_GRANT_REVOKED),
			    "4c03db0af7f7440ebdde9da749a7d29e");
	assert_string_equal(jit_event_name(JIT_EVENT_GRANT_REMOVED), "grant-removed");
	assert_string_equal(jit_event_message_id(JIT_EVENT_GRANT_REMOVED),
			    "c5ae4864b4714d7eb7056c8f2de611a3");

	assert_int_equal(jit_event_priority(JIT_EVENT_ACCESS_ALLOWED), LOG_NOTICE);
	assert_int_equal(jit_event_priority(JIT_EVENT_ACCESS_DENIED), LOG_WARNING);
	assert_int_equal(jit_event_priority(JIT_EVENT_GRANT_REMOVED), LOG_INFO);

	assert_string_equal(jit_event_name(JIT_EVENT_TYPE_COUNT), "unknown");
	assert_null(jit_event_message_id(JIT_EVENT_TYPE_COUNT));
}

static void test_unknown_type_rejected(void **state)
{
	jit_event ev = { .type = JIT_EVENT_TYPE_COUNT, .user = "alice" };
	jit_strlist fields = { 0 };
	jit_error error;

	(void)state;
	assert_int_equal(jit_event_build(&ev, &fields, &error), JIT_ERR_INVALID);
	assert_int_equal(fields.count, 0);
}

static void assert_message(const jit_event *ev, const char *expected)
{
	jit_strlist fields = { 0 };

	build(ev, &fields);
	assert_string_equal(field(&fields, "MESSAGE"), expected);
	jit_strlist_clear(&fields);
}

static void test_messages_read_as_sentences(void **state)
{
	jit_event ev;

	(void)state;
	ev = (jit_event){ .type = JIT_EVENT_ACCESS_ALLOWED, .user = "alice",
			  .command = "/usr/bin/systemctl status nginx",
			  .runas = "root", .grant_id = GRANT_ID };
	assert_message(&ev, "jit: allowed alice to run /usr/bin/systemctl status nginx as root (grant " GRANT_ID ")");

	ev = (jit_event){ .type = JIT_EVENT_ACCESS_ALLOWED, .user = "carol",
			  .service = "sshd", .grant_id = GRANT_ID };
	assert_message(&ev, "jit: allowed carol login to sshd (grant " GRANT_ID ")");

	ev = (jit_event){ .type = JIT_EVENT_ACCESS_DENIED, .user = "bob",
			  .service = "sshd", .reason = JIT_REASON_NO_GRANT,
			  .detail = "no active grant for service sshd" };
	assert_message(&ev, "jit: denied bob login to sshd: no-grant (no active grant for service sshd)");

	ev = (jit_event){ .type = JIT_EVENT_ACCESS_DENIED, .user = "bob",
			  .command = "/bin/sh", .runas = "root",
			  .reason = JIT_REASON_OUT_OF_SCOPE };
	assert_message(&ev, "jit: denied bob permission to run /bin/sh as root: out-of-scope");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_ISSUED, .user = "alice",
			  .grant_id = GRANT_ID, .role = "db-admin",
			  .expires = 1796415300 };
	assert_message(&ev, "jit: issued grant " GRANT_ID " to alice for role db-admin until 2026-12-04T20:15:00Z");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_IMPORTED, .user = "alice",
			  .grant_id = GRANT_ID };
	assert_message(&ev, "jit: imported grant " GRANT_ID " of alice");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_REVOKED, .user = "alice",
			  .grant_id = GRANT_ID, .actor = "root",
			  .detail = "left the team" };
	assert_message(&ev, "jit: revoked grant " GRANT_ID " of alice by root: left the team");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_REMOVED, .user = "alice",
			  .grant_id = GRANT_ID };
	assert_message(&ev, "jit: removed expired grant " GRANT_ID " of alice");
}

static void test_message_escapes_and_bounds_values(void **state)
{
	char command[1024];
	jit_event ev = { .type = JIT_EVENT_ACCESS_ALLOWED, .user = "eve\nforged line",
			 .command = command };
	jit_strlist fields = { 0 };
	const char *message;

	(void)state;
	memset(command, 'c', sizeof(command) - 1);
	command[sizeof(command) - 1] = '\0';

	build(&ev, &fields);
	message = field(&fields, "MESSAGE");
	assert_null(strchr(message, '\n'));
	assert_non_null(strstr(message, "eve\\nforged line"));
	assert_non_null(strstr(message, "ccc..."));
	assert_true(strlen(message) < 400);
	/* The field keeps the value itself. */
	assert_string_equal(field(&fields, "JIT_USER"), "eve\nforged line");
	assert_string_equal(field(&fields, "JIT_COMMAND"), command);
	jit_strlist_clear(&fields);
}

static void test_unset_fields_left_out(void **state)
{
	jit_event ev = { .type = JIT_EVENT_GRANT_REMOVED, .user = "alice",
			 .grant_id = GRANT_ID, .request_id = "" };
	jit_strlist fields = { 0 };

	(void)state;
	build(&ev, &fields);
	assert_null(field(&fields, "JIT_REQUEST_ID"));
	assert_null(field(&fields, "JIT_TTY"));
	assert_null(field(&fields, "JIT_EXPIRES"));
	assert_null(field(&fields, "JIT_DETAIL"));
	/* MESSAGE, MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER, JIT_EVENT,
	 * JIT_GRANT_ID and JIT_USER. */
	assert_int_equal(fields.count, 7);
	jit_strlist_clear(&fields);
}

static char *big_value_with_newlines(void)
{
	char *value = malloc(BIG_VALUE_SIZE + 1);

	assert_non_null(value);
	for (size_t i = 0; i < BIG_VALUE_SIZE; i++)
		value[i] = i % 80 == 79 ? '\n' : (char)('a' + i % 26);
	value[BIG_VALUE_SIZE] = '\0';
	return value;
}

static void digest_hex(const char *value, size_t length, char *hex, size_t hex_size)
{
	unsigned char digest[crypto_hash_sha256_BYTES];

	assert_true(sodium_init() >= 0);
	assert_int_equal(crypto_hash_sha256(digest, (const unsigned char *)value,
					    length), 0);
	sodium_bin2hex(hex, hex_size, digest, sizeof(digest));
}

static void test_long_value_cut_with_digest(void **state)
{
	char *value = big_value_with_newlines();
	jit_event ev = { .type = JIT_EVENT_ACCESS_DENIED, .user = "alice",
			 .command = value, .reason = JIT_REASON_OUT_OF_SCOPE };
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	char length[32];
	jit_strlist fields = { 0 };
	const char *cut;

	(void)state;
	build(&ev, &fields);
	assert_field_names(&fields);

	cut = field(&fields, "JIT_COMMAND");
	assert_non_null(cut);
	assert_int_equal(strlen(cut), JIT_EVENT_VALUE_MAX);
	assert_memory_equal(cut, value, JIT_EVENT_VALUE_MAX);

	snprintf(length, sizeof(length), "%d", BIG_VALUE_SIZE);
	assert_string_equal(field(&fields, "JIT_COMMAND_LENGTH"), length);
	digest_hex(value, BIG_VALUE_SIZE, hex, sizeof(hex));
	assert_string_equal(field(&fields, "JIT_COMMAND_SHA256"), hex);

	/* MESSAGE quotes a bounded copy, so it is never cut itself. */
	assert_true(strlen(field(&fields, "MESSAGE")) <= JIT_EVENT_VALUE_MAX);
	assert_null(field(&fields, "MESSAGE_LENGTH"));

	jit_strlist_clear(&fields);
	free(value);
}

static void test_value_at_limit_not_cut(void **state)
{
	char *value = malloc(JIT_EVENT_VALUE_MAX + 2);
	jit_event ev = { .type = JIT_EVENT_GRANT_ISSUED, .user = "alice",
			 .justification = value };
	jit_strlist fields = { 0 };

	(void)state;
	assert_non_null(value);
	memset(value, 'r', JIT_EVENT_VALUE_MAX);
	value[JIT_EVENT_VALUE_MAX] = '\0';

	build(&ev, &fields);
	assert_int_equal(strlen(field(&fields, "JIT_REASON")), JIT_EVENT_VALUE_MAX);
	assert_null(field(&fields, "JIT_REASON_LENGTH"));
	assert_null(field(&fields, "JIT_REASON_SHA256"));
	jit_strlist_clear(&fields);

	value[JIT_EVENT_VALUE_MAX] = 's';
	value[JIT_EVENT_VALUE_MAX + 1] = '\0';
	build(&ev, &fields);
	assert_int_equal(strlen(field(&fields, "JIT_REASON")), JIT_EVENT_VALUE_MAX);
	assert_string_equal(field(&fields, "JIT_REASON_LENGTH"), "4097");
	jit_strlist_clear(&fields);
	free(value);
}

static void test_session_event_ids_and_priorities(void **state)
{
	(void)state;
	assert_string_equal(jit_event_name(JIT_EVENT_SESSION_OPENED), "session-opened");
	assert_string_equal(jit_event_message_id(JIT_EVENT_SESSION_OPENED),
			    "18d61979f1bb4cf4b0fee41d2eb9996b");
	assert_string_equal(jit_event_name(JIT_EVENT_SESSION_CLOSED), "session-closed");
	assert_string_equal(jit_event_message_id(JIT_EVENT_SESSION_CLOSED),
			    "706f1fb47b6d4b7098bc15a29af40820");
	assert_string_equal(jit_event_name(JIT_EVENT_SESSION_ENDED), "session-ended");
	assert_string_equal(jit_event_message_id(JIT_EVENT_SESSION_ENDED),
			    "eb584d1f81e3450bba696b86f494594e");
	assert_string_equal(jit_event_name(JIT_EVENT_GRANT_EXPIRING),
			    "grant-expiring-warning");
	assert_string_equal(jit_event_message_id(JIT_EVENT_GRANT_EXPIRING),
			    "9a0411cc9a4e4d1eb373e4674fccbd2d");

	assert_int_equal(jit_event_priority(JIT_EVENT_SESSION_OPENED), LOG_NOTICE);
	assert_int_equal(jit_event_priority(JIT_EVENT_SESSION_CLOSED), LOG_INFO);
	assert_int_equal(jit_event_priority(JIT_EVENT_SESSION_ENDED), LOG_NOTICE);
	assert_int_equal(jit_event_priority(JIT_EVENT_GRANT_EXPIRING), LOG_INFO);
}

static void test_session_fields(void **state)
{
	jit_event ev = {
		.type = JIT_EVENT_SESSION_ENDED, .reason = JIT_REASON_REVOKED,
		.user = "carol", .service = "sshd", .grant_id = GRANT_ID,
		.session_id = "c7", .leader_pid = 4242,
		.duration_ms = 61500, .end_method = "signals",
	};
	jit_strlist fields = { 0 };

	(void)state;
	build(&ev, &fields);
	assert_field_names(&fields);
	assert_string_equal(field(&fields, "JIT_END_REASON"), "revoked");
	assert_string_equal(field(&fields, "JIT_SESSION_ID"), "c7");
	assert_string_equal(field(&fields, "JIT_LEADER_PID"), "4242");
	assert_string_equal(field(&fields, "JIT_DURATION_MS"), "61500");
	assert_string_equal(field(&fields, "JIT_END_METHOD"), "signals");
	assert_null(field(&fields, "JIT_DECISION"));
	assert_null(field(&fields, "JIT_DENY_REASON"));
	jit_strlist_clear(&fields);

	/* Only session-ended says why a session ended. */
	ev.type = JIT_EVENT_SESSION_CLOSED;
	build(&ev, &fields);
	assert_null(field(&fields, "JIT_END_REASON"));
	assert_string_equal(field(&fields, "JIT_DURATION_MS"), "61500");
	jit_strlist_clear(&fields);

	/* Unset numbers are left out like unset strings. */
	ev = (jit_event){ .type = JIT_EVENT_SESSION_OPENED, .user = "carol",
			  .grant_id = GRANT_ID };
	build(&ev, &fields);
	assert_null(field(&fields, "JIT_LEADER_PID"));
	assert_null(field(&fields, "JIT_DURATION_MS"));
	assert_null(field(&fields, "JIT_SESSION_ID"));
	jit_strlist_clear(&fields);
}

static void test_session_messages_read_as_sentences(void **state)
{
	jit_event ev;

	(void)state;
	ev = (jit_event){ .type = JIT_EVENT_SESSION_OPENED, .user = "carol",
			  .service = "sshd", .rhost = "192.0.2.7",
			  .grant_id = GRANT_ID, .role = "ops",
			  .expires = 1796415300 };
	assert_message(&ev, "jit: opened session of carol through sshd from 192.0.2.7 (grant " GRANT_ID ") for role ops until 2026-12-04T20:15:00Z");

	ev = (jit_event){ .type = JIT_EVENT_SESSION_CLOSED, .user = "carol",
			  .service = "sshd", .grant_id = GRANT_ID,
			  .duration_ms = 95400 };
	assert_message(&ev, "jit: closed session of carol through sshd (grant " GRANT_ID ") after 1m35s");

	ev = (jit_event){ .type = JIT_EVENT_SESSION_CLOSED, .user = "carol",
			  .service = "sshd", .grant_id = GRANT_ID,
			  .duration_ms = 250 };
	assert_message(&ev, "jit: closed session of carol through sshd (grant " GRANT_ID ") after 0s");

	ev = (jit_event){ .type = JIT_EVENT_SESSION_ENDED, .user = "carol",
			  .service = "sshd", .grant_id = GRANT_ID,
			  .reason = JIT_REASON_EXPIRED,
			  .detail = "2 processes signalled" };
	assert_message(&ev, "jit: ended session of carol through sshd (grant " GRANT_ID "): expired (2 processes signalled)");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_EXPIRING, .user = "carol",
			  .grant_id = GRANT_ID, .expires = 1796415300 };
	assert_message(&ev, "jit: warned carol that grant " GRANT_ID " ends at 2026-12-04T20:15:00Z");
}

static char *syslog_line(const jit_event *ev)
{
	jit_strlist fields = { 0 };
	jit_error error;
	char *line = NULL;

	build(ev, &fields);
	if (jit_event_format_syslog(&fields, &line, &error) != JIT_OK)
		fail_msg("formatting failed: %s", error.message);
	jit_strlist_clear(&fields);
	return line;
}

static void test_syslog_line_escapes(void **state)
{
	jit_event ev = { .type = JIT_EVENT_ACCESS_ALLOWED, .user = "alice",
			 .command = "/bin/echo \"a\\b\"\nsecond\x01line",
			 .grant_id = GRANT_ID };
	char *line;

	(void)state;
	line = syslog_line(&ev);
	assert_null(strchr(line, '\n'));
	assert_non_null(strstr(line, "JIT_COMMAND=\"/bin/echo \\\"a\\\\b\\\"\\nsecond\\x01line\""));
	assert_non_null(strstr(line, "MESSAGE_ID=\"503d95e270c049ff98b4836fc6acef1f\""));
	assert_non_null(strstr(line, "JIT_EVENT=\"access-allowed\""));
	assert_non_null(strstr(line, "JIT_GRANT_ID=\"" GRANT_ID "\""));
	assert_true(strncmp(line, "MESSAGE=\"jit: allowed alice to run ", 35) == 0);
	for (const char *c = line; *c != '\0'; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	free(line);
}

static void test_syslog_line_bounded(void **state)
{
	char *value = big_value_with_newlines();
	jit_event ev = { .type = JIT_EVENT_ACCESS_DENIED, .user = "alice",
			 .command = value, .detail = value,
			 .reason = JIT_REASON_OUT_OF_SCOPE };
	char *line;

	(void)state;
	line = syslog_line(&ev);
	assert_null(strchr(line, '\n'));
	/* Two cut values, each escaped within the limit, plus short fields. */
	assert_true(strlen(line) < 3 * JIT_EVENT_VALUE_MAX);
	assert_non_null(strstr(line, "JIT_COMMAND_LENGTH=\"204800\""));
	assert_non_null(strstr(line, "JIT_DETAIL_LENGTH=\"204800\""));
	/* The companions from the build are not repeated. */
	assert_null(strstr(strstr(line, "JIT_COMMAND_LENGTH") + 1, "JIT_COMMAND_LENGTH"));
	free(line);
	free(value);
}

static void test_syslog_escaping_cut_adds_digest(void **state)
{
	char value[JIT_EVENT_VALUE_MAX + 1];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	char expected[128];
	jit_event ev = { .type = JIT_EVENT_GRANT_ISSUED, .user = "alice",
			 .justification = value };
	const char *start, *end;
	char *line;

	(void)state;
	memset(value, '\n', JIT_EVENT_VALUE_MAX);
	value[JIT_EVENT_VALUE_MAX] = '\0';

	line = syslog_line(&ev);
	start = strstr(line, "JIT_REASON=\"");
	assert_non_null(start);
	start += strlen("JIT_REASON=\"");
	end = strchr(start, '"');
	assert_non_null(end);
	/* Each newline takes two bytes escaped, so half of them fit. */
	assert_int_equal(end - start, JIT_EVENT_VALUE_MAX);

	digest_hex(value, JIT_EVENT_VALUE_MAX, hex, sizeof(hex));
	snprintf(expected, sizeof(expected),
		 "JIT_REASON_LENGTH=\"%d\" JIT_REASON_SHA256=\"%s\"",
		 JIT_EVENT_VALUE_MAX, hex);
	assert_non_null(strstr(line, expected));
	free(line);
}

/* The emit tests run in a child with a private mount namespace and empty
 * tmpfs mounts on /run and /dev, so the journal socket and /dev/log there
 * are the test's own. The child reports through its exit status:
 * 0 passed, 1 failed (with a line on stderr), SKIP_STATUS when it cannot
 * set up the namespace. */
#define SKIP_STATUS 77
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static int bind_socket(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	struct timeval timeout = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0) {
		fprintf(stderr, "cannot bind %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	return fd;
}

static void emit_denial(void)
{
	jit_event ev = { .type = JIT_EVENT_ACCESS_DENIED, .user = "bob",
			 .command = "/bin/echo one\ntwo",
			 .reason = JIT_REASON_NO_GRANT };
	jit_error error;

	jit_error_clear(&error);
	if (jit_event_emit(&ev, &error) != JIT_OK) {
		fprintf(stderr, "emit failed: %s\n", error.message);
		_exit(1);
	}
}

/* Receives one datagram and checks that it contains every string of
 * expected and none of unexpected. */
static void expect_datagram(int fd, const char *const *expected,
			    const char *const *unexpected)
{
	static char buffer[65536];
	ssize_t n = recv(fd, buffer, sizeof(buffer) - 1, 0);

	if (n < 0) {
		fprintf(stderr, "nothing received: %s\n", strerror(errno));
		_exit(1);
	}
	buffer[n] = '\0';

	for (; *expected != NULL; expected++) {
		if (strstr(buffer, *expected) == NULL) {
			fprintf(stderr, "'%s' missing from: %s\n", *expected, buffer);
			_exit(1);
		}
	}
	for (; *unexpected != NULL; unexpected++) {
		if (strstr(buffer, *unexpected) != NULL) {
			fprintf(stderr, "'%s' found in: %s\n", *unexpected, buffer);
			_exit(1);
		}
	}
}

static void run_isolated(void (*body)(void))
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);

	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
		    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755") < 0)
			_exit(SKIP_STATUS);
		body();
		_exit(0);
	}

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIP_STATUS)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void send_to_journal_body(void)
{
	static const char *const expected[] = {
		"MESSAGE=jit: denied bob permission to run /bin/echo one\\ntwo: no-grant\n",
		"\nMESSAGE_ID=c01ce38c8b744db6befe7002db254cbf\n",
		"\nPRIORITY=4\n", "\nSYSLOG_IDENTIFIER=jit\n",
		"\nJIT_EVENT=access-denied\n", "\nJIT_DENY_REASON=no-grant\n",
		/* A value with a newline goes out with an explicit length. */
		"\nJIT_COMMAND\n", NULL,
	};
	static const char *const unexpected[] = { "CODE_FILE", "CODE_FUNC", NULL };
	int fd;

	mkdir("/run/systemd", 0755);
	mkdir("/run/systemd/journal", 0755);
	fd = bind_socket(JOURNAL_SOCKET);
	emit_denial();
	expect_datagram(fd, expected, unexpected);
}

static void test_emit_sends_to_journal(void **state)
{
	(void)state;
	run_isolated(send_to_journal_body);
}

static const char *const syslog_expected[] = {
	"<84>",         /* LOG_AUTHPRIV | LOG_WARNING */
	"MESSAGE=\"jit: denied bob permission to run /bin/echo one\\\\ntwo: no-grant\"",
	"JIT_EVENT=\"access-denied\"", "JIT_COMMAND=\"/bin/echo one\\ntwo\"",
	NULL,
};
static const char *const syslog_unexpected[] = { "\n", NULL };

static void fall_back_without_journal_body(void)
{
	int fd = bind_socket("/dev/log");

	emit_denial();
	expect_datagram(fd, syslog_expected, syslog_unexpected);
}

static void test_emit_falls_back_to_syslog(void **state)
{
	(void)state;
	run_isolated(fall_back_without_journal_body);
}

static void fall_back_from_dead_journal_body(void)
{
	int log_fd = bind_socket("/dev/log");

	/* A socket file without a reader, as after journald died. */
	mkdir("/run/systemd", 0755);
	mkdir("/run/systemd/journal", 0755);
	close(bind_socket(JOURNAL_SOCKET));

	emit_denial();
	expect_datagram(log_fd, syslog_expected, syslog_unexpected);
}

static void test_emit_falls_back_from_dead_journal(void **state)
{
	(void)state;
	run_isolated(fall_back_from_dead_journal_body);
}

static void test_request_event_ids_and_priorities(void **state)
{
	static const struct {
		jit_event_type type;
		const char *name;
		const char *id;
		int priority;
	} expected[] = {
		{ JIT_EVENT_REQUEST_CREATED, "request-created",
		  "e5cabc504533466385828828fbe5aa95", LOG_NOTICE },
		{ JIT_EVENT_REQUEST_APPROVED, "request-approved",
		  "1e145f52b90c4da39fe43a7bfd803a39", LOG_NOTICE },
		{ JIT_EVENT_REQUEST_DENIED, "request-denied",
		  "825e468f204346dbbc5c9a7d43f2e6e0", LOG_NOTICE },
		{ JIT_EVENT_REQUEST_CANCELLED, "request-cancelled",
		  "45b1cd7203d9494e9a37deb85f3c7f1d", LOG_INFO },
		{ JIT_EVENT_REQUEST_EXPIRED, "request-expired",
		  "c55e7be0004f4396b57fb4221f1cdbf1", LOG_INFO },
		{ JIT_EVENT_BREAK_GLASS_USED, "break-glass-used",
		  "c770ba27eaff4557b1d9dc56bd97da26", LOG_ALERT },
		{ JIT_EVENT_GRANT_REVIEWED, "grant-reviewed",
		  "8ebf97729b21452f8bfb223471f7296a", LOG_NOTICE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		assert_string_equal(jit_event_name(expected[i].type), expected[i].name);
		assert_string_equal(jit_event_message_id(expected[i].type), expected[i].id);
		assert_int_equal(jit_event_priority(expected[i].type), expected[i].priority);
	}
}

static void test_request_fields(void **state)
{
	jit_event ev = {
		.type = JIT_EVENT_REQUEST_APPROVED,
		.request_id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
		.grant_id = GRANT_ID,
		.user = "alice",
		.actor = "frank",
		.role = "db-admin",
		.justification = "INC-4821 disk full",
		.detail = "approval 1 of 2",
	};
	jit_strlist fields = { 0 };

	(void)state;
	build(&ev, &fields);
	assert_field_names(&fields);
	assert_string_equal(field(&fields, "JIT_EVENT"), "request-approved");
	assert_string_equal(field(&fields, "JIT_REQUEST_ID"), ev.request_id);
	assert_string_equal(field(&fields, "JIT_GRANT_ID"), GRANT_ID);
	assert_string_equal(field(&fields, "JIT_USER"), "alice");
	assert_string_equal(field(&fields, "JIT_ACTOR"), "frank");
	assert_string_equal(field(&fields, "JIT_ROLE"), "db-admin");
	assert_string_equal(field(&fields, "JIT_REASON"), "INC-4821 disk full");
	assert_string_equal(field(&fields, "JIT_DETAIL"), "approval 1 of 2");
	assert_string_equal(field(&fields, "PRIORITY"), "5");
	assert_null(field(&fields, "JIT_DECISION"));
	jit_strlist_clear(&fields);
}

static void test_request_messages_read_as_sentences(void **state)
{
	jit_event ev;

	(void)state;
	ev = (jit_event){ .type = JIT_EVENT_REQUEST_CREATED, .request_id = "R1",
			  .user = "alice", .role = "db-admin",
			  .justification = "INC-4821 disk full" };
	assert_message(&ev, "jit: alice requested role db-admin (request R1): INC-4821 disk full");

	ev = (jit_event){ .type = JIT_EVENT_REQUEST_APPROVED, .request_id = "R1",
			  .user = "alice", .actor = "frank", .role = "db-admin",
			  .detail = "approval 1 of 2" };
	assert_message(&ev, "jit: frank approved request R1 of alice for role db-admin (approval 1 of 2)");

	ev = (jit_event){ .type = JIT_EVENT_REQUEST_DENIED, .request_id = "R1",
			  .user = "alice", .actor = "grace", .role = "db-admin",
			  .detail = "use the replica" };
	assert_message(&ev, "jit: grace denied request R1 of alice for role db-admin: use the replica");

	ev = (jit_event){ .type = JIT_EVENT_REQUEST_CANCELLED, .request_id = "R1",
			  .user = "alice", .actor = "alice", .role = "db-admin" };
	assert_message(&ev, "jit: alice cancelled request R1 of alice for role db-admin");

	ev = (jit_event){ .type = JIT_EVENT_REQUEST_EXPIRED, .request_id = "R1",
			  .user = "alice", .role = "db-admin" };
	assert_message(&ev, "jit: request R1 of alice for role db-admin expired undecided");

	ev = (jit_event){ .type = JIT_EVENT_BREAK_GLASS_USED, .grant_id = GRANT_ID,
			  .user = "heidi", .justification = "primary down",
			  .expires = 1796415300 };
	assert_message(&ev, "jit: break-glass grant " GRANT_ID " issued to heidi until 2026-12-04T20:15:00Z without approval: primary down");

	ev = (jit_event){ .type = JIT_EVENT_GRANT_REVIEWED, .grant_id = GRANT_ID,
			  .user = "heidi", .actor = "frank", .detail = "runbook followed" };
	assert_message(&ev, "jit: frank reviewed break-glass grant " GRANT_ID " of heidi: runbook followed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_event_has_valid_fields),
		cmocka_unit_test(test_decision_fields),
		cmocka_unit_test(test_message_ids_distinct_hex),
		cmocka_unit_test(test_fixed_names_ids_and_priorities),
		cmocka_unit_test(test_unknown_type_rejected),
		cmocka_unit_test(test_session_event_ids_and_priorities),
		cmocka_unit_test(test_session_fields),
		cmocka_unit_test(test_session_messages_read_as_sentences),
		cmocka_unit_test(test_messages_read_as_sentences),
		cmocka_unit_test(test_message_escapes_and_bounds_values),
		cmocka_unit_test(test_unset_fields_left_out),
		cmocka_unit_test(test_long_value_cut_with_digest),
		cmocka_unit_test(test_value_at_limit_not_cut),
		cmocka_unit_test(test_syslog_line_escapes),
		cmocka_unit_test(test_syslog_line_bounded),
		cmocka_unit_test(test_syslog_escaping_cut_adds_digest),
		cmocka_unit_test(test_emit_sends_to_journal),
		cmocka_unit_test(test_emit_falls_back_to_syslog),
		cmocka_unit_test(test_emit_falls_back_from_dead_journal),
		cmocka_unit_test(test_request_event_ids_and_priorities),
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_request_messages_read_as_sentences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
