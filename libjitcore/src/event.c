#include "jit/event.h"
#include "jit/timeutil.h"
#include "jit/util.h"

#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>

/* The library's own source location (CODE_FILE, CODE_LINE, CODE_FUNC) is
 * of no use to an administrator, so events carry only their own fields. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* The native protocol socket that sd_journal_sendv() writes to. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* Values quoted inside MESSAGE are cut to this many bytes, so the
 * sentence stays whole and readable; the JIT_* field keeps the value. */
#define MESSAGE_VALUE_MAX 256

/* MESSAGE_IDs are fixed forever: journal catalogs and queries match on
 * them. Priorities: every use of privilege and every change to who has it
 * is a notice, a denial is a warning, and removing a grant that has
 * already expired is routine cleanup (info). A session ended by jit is a
 * notice because it cuts off a user; a session that closed by itself, and
 * the warning before expiry, are info. */
static const struct event_info {
	const char *name;
	const char *message_id;
	int priority;
} event_infos[JIT_EVENT_TYPE_COUNT] = {
	[JIT_EVENT_ACCESS_ALLOWED] = {
		"access-allowed", "503d95e270c049ff98b4836fc6acef1f", LOG_NOTICE },
	[JIT_EVENT_ACCESS_DENIED] = {
		"access-denied", "c01ce38c8b744db6befe7002db254cbf", LOG_WARNING },
	[JIT_EVENT_GRANT_ISSUED] = {
		"grant-issued", "b97530e66b7e4f9abb9de2fd56b468b1", LOG_NOTICE },
	[JIT_EVENT_GRANT_IMPORTED] = {
		"grant-imported", "9170ffa1d243439cb49a21b776d73770", LOG_NOTICE },
	[JIT_EVENT_GRANT_REVOKED] = {
		"grant-revoked", "4c03db0af7f7440ebdde9da749a7d29e", LOG_NOTICE },
	[JIT_EVENT_GRANT_REMOVED] = {
		"grant-removed", "c5ae4864b4714d7eb7056c8f2de611a3", LOG_INFO },
	[JIT_EVENT_SESSION_OPENED] = {
		"session-opened", "18d61979f1bb4cf4b0fee41d2eb9996b", LOG_NOTICE },
	[JIT_EVENT_SESSION_CLOSED] = {
		"session-closed", "706f1fb47b6d4b7098bc15a29af40820", LOG_INFO },
	[JIT_EVENT_SESSION_ENDED] = {
		"session-ended", "eb584d1f81e3450bba696b86f494594e", LOG_NOTICE },
	[JIT_EVENT_GRANT_EXPIRING] = {
		"grant-expiring-warning", "9a0411cc9a4e4d1eb373e4674fccbd2d", LOG_INFO },
	/* A request that ends without a decision changes nothing, so
	 * cancelled and expired are info. break-glass-used is an alert: a
	 * grant was issued without approval and waits for a review. */
	[JIT_EVENT_REQUEST_CREATED] = {
		"request-created", "e5cabc504533466385828828fbe5aa95", LOG_NOTICE },
	[JIT_EVENT_REQUEST_APPROVED] = {
		"request-approved", "1e145f52b90c4da39fe43a7bfd803a39", LOG_NOTICE },
	[JIT_EVENT_REQUEST_DENIED] = {
		"request-denied", "825e468f204346dbbc5c9a7d43f2e6e0", LOG_NOTICE },
	[JIT_EVENT_REQUEST_CANCELLED] = {
		"request-cancelled", "45b1cd7203d9494e9a37deb85f3c7f1d", LOG_INFO },
	[JIT_EVENT_REQUEST_EXPIRED] = {
		"request-expired", "c55e7be0004f4396b57fb4221f1cdbf1", LOG_INFO },
	[JIT_EVENT_BREAK_GLASS_USED] = {
		"break-glass-used", "c770ba27eaff4557b1d9dc56bd97da26", LOG_ALERT },
	[JIT_EVENT_GRANT_REVIEWED] = {
		"grant-reviewed", "8ebf97729b21452f8bfb223471f7296a", LOG_NOTICE },
};

/* The optional string fields, in the order they are emitted. */
static const struct {
	const char *name;
	size_t offset;
} optional_fields[] = {
	{ "JIT_DETAIL", offsetof(jit_event, detail) },
	{ "JIT_GRANT_ID", offsetof(jit_event, grant_id) },
	{ "JIT_REQUEST_ID", offsetof(jit_event, request_id) },
	{ "JIT_USER", offsetof(jit_event, user) },
	{ "JIT_ACTOR", offsetof(jit_event, actor) },
	{ "JIT_ROLE", offsetof(jit_event, role) },
	{ "JIT_REASON", offsetof(jit_event, justification) },
	{ "JIT_SERVICE", offsetof(jit_event, service) },
	{ "JIT_COMMAND", offsetof(jit_event, command) },
	{ "JIT_RUNAS", offsetof(jit_event, runas) },
	{ "JIT_TTY", offsetof(jit_event, tty) },
	{ "JIT_RHOST", offsetof(jit_event, rhost) },
	{ "JIT_SESSION_ID", offsetof(jit_event, session_id) },
	{ "JIT_END_METHOD", offsetof(jit_event, end_method) },
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

static bool valid_type(jit_event_type type)
{
	return (int)type >= 0 && type < JIT_EVENT_TYPE_COUNT;
}

const char *jit_event_name(jit_event_type type)
{
	return valid_type(type) ? event_infos[type].name : "unknown";
}

const char *jit_event_message_id(jit_event_type type)
{
	return valid_type(type) ? event_infos[type].message_id : NULL;
}

int jit_event_priority(jit_event_type type)
{
	return valid_type(type) ? event_infos[type].priority : LOG_ERR;
}

/* Writes the escaped form of byte c: backslash and double quote are
 * escaped, newline is "\n" and other control bytes are "\xHH". Returns
 * the number of bytes written to out (at most 4). */
static size_t escape_byte(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\\' || c == '"') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c == '\n') {
		out[0] = '\\';
		out[1] = 'n';
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

/* Writes value escaped to f, stopping before the output would exceed max
 * bytes; an escape sequence is never split. Returns whether it cut. */
static bool write_escaped(FILE *f, const char *value, size_t max)
{
	char buffer[512];
	size_t used = 0, buffered = 0;
	bool cut = false;

	/* Bytes go out in chunks: one stdio call per byte made reaping many
	 * grants, one event each, measurably slower. */
	for (const unsigned char *c = (const unsigned char *)value; *c != '\0'; c++) {
		char escaped[4];
		size_t n = escape_byte(*c, escaped);

		if (used + n > max) {
			cut = true;
			break;
		}
		if (buffered + n > sizeof(buffer)) {
			fwrite(buffer, 1, buffered, f);
			buffered = 0;
		}
		memcpy(buffer + buffered, escaped, n);
		buffered += n;
		used += n;
	}

	fwrite(buffer, 1, buffered, f);
	return cut;
}

/* Writes a value quoted in MESSAGE: escaped and bounded. */
static void put_value(FILE *f, const char *value)
{
	if (value == NULL || value[0] == '\0') {
		fputs("(unknown)", f);
		return;
	}
	if (write_escaped(f, value, MESSAGE_VALUE_MAX))
		fputs("...", f);
}

static void put_grant(FILE *f, const jit_event *ev)
{
	fputs("grant ", f);
	put_value(f, ev->grant_id);
}

static void put_access(FILE *f, const jit_event *ev)
{
	if (ev->command != NULL) {
		fputs(ev->type == JIT_EVENT_ACCESS_ALLOWED ? " to run " :
			" permission to run ", f);
		put_value(f, ev->command);
		if (ev->runas != NULL) {
			fputs(" as ", f);
			put_value(f, ev->runas);
		}
	} else if (ev->service != NULL) {
		fputs(" login to ", f);
		put_value(f, ev->service);
	}
}

static void put_allowed(FILE *f, const jit_event *ev)
{
	fputs("allowed ", f);
	put_value(f, ev->user);
	put_access(f, ev);
	if (ev->grant_id != NULL) {
		fputs(" (", f);
		put_grant(f, ev);
		fputs(")", f);
	}
}

static void put_denied(FILE *f, const jit_event *ev)
{
	fputs("denied ", f);
	put_value(f, ev->user);
	put_access(f, ev);
	fprintf(f, ": %s", jit_reason_name(ev->reason));
	if (ev->detail != NULL && ev->detail[0] != '\0') {
		fputs(" (", f);
		put_value(f, ev->detail);
		fputs(")", f);
	}
}

static void put_role_and_expiry(FILE *f, const jit_event *ev)
{
	char until[32];

	if (ev->role != NULL && ev->role[0] != '\0') {
		fputs(" for role ", f);
		put_value(f, ev->role);
	}
	if (ev->expires != 0) {
		jit_time_format(ev->expires, until, sizeof(until));
		fprintf(f, " until %s", until);
	}
}

/* grant-revoked: the revocation reason is detail, or justification when
 * the caller put it there instead. */
static void put_revoked(FILE *f, const jit_event *ev)
{
	const char *why = ev->detail != NULL ? ev->detail : ev->justification;

	fputs("revoked ", f);
	put_grant(f, ev);
	fputs(" of ", f);
	put_value(f, ev->user);
	if (ev->actor != NULL) {
		fputs(" by ", f);
		put_value(f, ev->actor);
	}
	if (why != NULL && why[0] != '\0') {
		fputs(": ", f);
		put_value(f, why);
	}
}

/* "carol through sshd (grant ...)", shared by the session sentences. */
static void put_session(FILE *f, const jit_event *ev)
{
	fputs("session of ", f);
	put_value(f, ev->user);
	if (ev->service != NULL) {
		fputs(" through ", f);
		put_value(f, ev->service);
	}
	if (ev->rhost != NULL && ev->rhost[0] != '\0') {
		fputs(" from ", f);
		put_value(f, ev->rhost);
	}
	fputs(" (", f);
	put_grant(f, ev);
	fputs(")", f);
}

static void put_duration(FILE *f, int64_t duration_ms)
{
	char text[32];

	if (duration_ms <= 0)
		return;
	jit_duration_format(duration_ms / 1000, text, sizeof(text));
	fprintf(f, " after %s", duration_ms < 1000 ? "0s" : text);
}

static void put_session_sentence(FILE *f, const jit_event *ev)
{
	char until[32];

	switch (ev->type) {
	case JIT_EVENT_SESSION_OPENED:
		fputs("opened ", f);
		put_session(f, ev);
		put_role_and_expiry(f, ev);
		break;
	case JIT_EVENT_SESSION_CLOSED:
		fputs("closed ", f);
		put_session(f, ev);
		put_duration(f, ev->duration_ms);
		break;
	case JIT_EVENT_SESSION_ENDED:
		fputs("ended ", f);
		put_session(f, ev);
		put_duration(f, ev->duration_ms);
		fprintf(f, ": %s", jit_reason_name(ev->reason));
		if (ev->detail != NULL && ev->detail[0] != '\0') {
			fputs(" (", f);
			put_value(f, ev->detail);
			fputs(")", f);
		}
		break;
	default:
		fputs("warned ", f);
		put_value(f, ev->user);
		fputs(" that ", f);
		put_grant(f, ev);
		if (ev->expires != 0) {
			jit_time_format(ev->expires, until, sizeof(until));
			fprintf(f, " ends at %s", until);
		} else {
			fputs(" ends soon", f);
		}
		break;
	}
}

/* Appends ": detail" (or " (detail)" when in_parentheses), if set. */
static void put_detail(FILE *f, const jit_event *ev, bool in_parentheses)
{
	if (ev->detail == NULL || ev->detail[0] == '\0')
		return;
	fputs(in_parentheses ? " (" : ": ", f);
	put_value(f, ev->detail);
	if (in_parentheses)
		fputs(")", f);
}

/* "request R of alice for role db-admin", shared by the request
 * sentences. */
static void put_request(FILE *f, const jit_event *ev)
{
	fputs("request ", f);
	put_value(f, ev->request_id);
	fputs(" of ", f);
	put_value(f, ev->user);
	fputs(" for role ", f);
	put_value(f, ev->role);
}

static void put_request_sentence(FILE *f, const jit_event *ev)
{
	if (ev->type == JIT_EVENT_REQUEST_CREATED) {
		put_value(f, ev->user);
		fputs(" requested role ", f);
		put_value(f, ev->role);
		fputs(" (request ", f);
		put_value(f, ev->request_id);
		fputs(")", f);
		if (ev->justification != NULL && ev->justification[0] != '\0') {
			fputs(": ", f);
			put_value(f, ev->justification);
		}
		return;
	}
	if (ev->type == JIT_EVENT_REQUEST_EXPIRED) {
		put_request(f, ev);
		fputs(" expired undecided", f);
		return;
	}

	put_value(f, ev->actor);
	fputs(ev->type == JIT_EVENT_REQUEST_APPROVED ? " approved " :
	      ev->type == JIT_EVENT_REQUEST_DENIED ? " denied " : " cancelled ", f);
	put_request(f, ev);
	put_detail(f, ev, ev->type == JIT_EVENT_REQUEST_APPROVED);
}

static void put_break_glass_sentence(FILE *f, const jit_event *ev)
{
	char until[32];

	if (ev->type == JIT_EVENT_GRANT_REVIEWED) {
		put_value(f, ev->actor);
		fputs(" reviewed break-glass ", f);
		put_grant(f, ev);
		fputs(" of ", f);
		put_value(f, ev->user);
		put_detail(f, ev, false);
		return;
	}

	fputs("break-glass ", f);
	put_grant(f, ev);
	fputs(" issued to ", f);
	put_value(f, ev->user);
	if (ev->expires != 0) {
		jit_time_format(ev->expires, until, sizeof(until));
		fprintf(f, " until %s", until);
	}
	fputs(" without approval", f);
	if (ev->justification != NULL && ev->justification[0] != '\0') {
		fputs(": ", f);
		put_value(f, ev->justification);
	}
}

static void put_sentence(FILE *f, const jit_event *ev)
{
	switch (ev->type) {
	case JIT_EVENT_ACCESS_ALLOWED:
		put_allowed(f, ev);
		break;
	case JIT_EVENT_ACCESS_DENIED:
		put_denied(f, ev);
		break;
	case JIT_EVENT_GRANT_ISSUED:
		fputs("issued ", f);
		put_grant(f, ev);
		fputs(" to ", f);
		put_value(f, ev->user);
		put_role_and_expiry(f, ev);
		break;
	case JIT_EVENT_GRANT_IMPORTED:
		fputs("imported ", f);
		put_grant(f, ev);
		fputs(" of ", f);
		put_value(f, ev->user);
		put_role_and_expiry(f, ev);
		break;
	case JIT_EVENT_GRANT_REVOKED:
		put_revoked(f, ev);
		break;
	case JIT_EVENT_GRANT_REMOVED:
		fputs("removed expired ", f);
		put_grant(f, ev);
		fputs(" of ", f);
		put_value(f, ev->user);
		break;
	case JIT_EVENT_SESSION_OPENED:
	case JIT_EVENT_SESSION_CLOSED:
	case JIT_EVENT_SESSION_ENDED:
	case JIT_EVENT_GRANT_EXPIRING:
		put_session_sentence(f, ev);
		break;
	case JIT_EVENT_REQUEST_CREATED:
	case JIT_EVENT_REQUEST_APPROVED:
	case JIT_EVENT_REQUEST_DENIED:
	case JIT_EVENT_REQUEST_CANCELLED:
	case JIT_EVENT_REQUEST_EXPIRED:
		put_request_sentence(f, ev);
		break;
	case JIT_EVENT_BREAK_GLASS_USED:
	case JIT_EVENT_GRANT_REVIEWED:
		put_break_glass_sentence(f, ev);
		break;
	case JIT_EVENT_TYPE_COUNT:
		break;
	}
}

static jit_err build_message(const jit_event *ev, char **message)
{
	char *text = NULL;
	size_t size = 0;
	bool failed;
	FILE *f;

	*message = NULL;

	f = open_memstream(&text, &size);
	if (f == NULL)
		return JIT_ERR_NOMEM;

	fputs("jit: ", f);
	put_sentence(f, ev);

	failed = ferror(f) != 0;
	/* glibc's fclose can return 0 yet leave the text NULL when shrinking
	 * the buffer fails for lack of memory. */
	if (fclose(f) != 0 || failed || text == NULL) {
		free(text);
		return JIT_ERR_NOMEM;
	}

	*message = text;
	return JIT_OK;
}

/* Appends "NAME=value"; a value above JIT_EVENT_VALUE_MAX bytes is cut to
 * exactly that many bytes and described by NAME_LENGTH and NAME_SHA256. */
static jit_err add_field(jit_strlist *fields, const char *name,
			 const char *value)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	size_t length = strlen(value);
	char *item = NULL;
	jit_err r;

	if (asprintf(&item, "%s=%.*s", name, JIT_EVENT_VALUE_MAX, value) < 0)
		return JIT_ERR_NOMEM;
	r = jit_strlist_append(fields, item);
	free(item);
	item = NULL;
	if (r != JIT_OK || length <= JIT_EVENT_VALUE_MAX)
		return r;

	crypto_hash_sha256(digest, (const unsigned char *)value, length);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));

	if (asprintf(&item, "%s_LENGTH=%zu", name, length) < 0)
		return JIT_ERR_NOMEM;
	r = jit_strlist_append(fields, item);
	free(item);
	if (r != JIT_OK)
		return r;

	if (asprintf(&item, "%s_SHA256=%s", name, hex) < 0)
		return JIT_ERR_NOMEM;
	r = jit_strlist_append(fields, item);
	free(item);
	return r;
}

static jit_err add_number_field(jit_strlist *fields, const char *name,
				int64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)value);
	return add_field(fields, name, text);
}

static jit_err add_fixed_fields(jit_strlist *fields, const jit_event *ev,
				const char *message)
{
	const struct event_info *info = &event_infos[ev->type];
	char priority[4];
	jit_err r;

	snprintf(priority, sizeof(priority), "%d", info->priority);

	r = add_field(fields, "MESSAGE", message);
	if (r == JIT_OK)
		r = add_field(fields, "MESSAGE_ID", info->message_id);
	if (r == JIT_OK)
		r = add_field(fields, "PRIORITY", priority);
	if (r == JIT_OK)
		r = add_field(fields, "SYSLOG_IDENTIFIER", "jit");
	if (r == JIT_OK)
		r = add_field(fields, "JIT_EVENT", info->name);

	if (r == JIT_OK && ev->type == JIT_EVENT_ACCESS_ALLOWED)
		r = add_field(fields, "JIT_DECISION", "allow");
	if (r == JIT_OK && ev->type == JIT_EVENT_ACCESS_DENIED)
		r = add_field(fields, "JIT_DECISION", "deny");
	if (r == JIT_OK && ev->type == JIT_EVENT_ACCESS_DENIED)
		r = add_field(fields, "JIT_DENY_REASON", jit_reason_name(ev->reason));
	if (r == JIT_OK && ev->type == JIT_EVENT_SESSION_ENDED)
		r = add_field(fields, "JIT_END_REASON", jit_reason_name(ev->reason));
	return r;
}

static jit_err add_optional_fields(jit_strlist *fields, const jit_event *ev)
{
	char expires[32];
	jit_err r = JIT_OK;

	for (size_t i = 0; i < COUNT_OF(optional_fields) && r == JIT_OK; i++) {
		const char *value = *(const char *const *)
			((const char *)ev + optional_fields[i].offset);

		if (value != NULL && value[0] != '\0')
			r = add_field(fields, optional_fields[i].name, value);
	}

	if (r == JIT_OK && ev->expires != 0) {
		jit_time_format(ev->expires, expires, sizeof(expires));
		r = add_field(fields, "JIT_EXPIRES", expires);
	}
	if (r == JIT_OK && ev->leader_pid != 0)
		r = add_number_field(fields, "JIT_LEADER_PID", ev->leader_pid);
	if (r == JIT_OK && ev->duration_ms != 0)
		r = add_number_field(fields, "JIT_DURATION_MS", ev->duration_ms);
	return r;
}

jit_err jit_event_build(const jit_event *ev, jit_strlist *fields,
			jit_error *error)
{
	jit_strlist list = { 0 };
	char *message = NULL;
	jit_err r;

	if (!valid_type(ev->type))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "cannot build an event of unknown type %d",
				     (int)ev->type);
	if (sodium_init() < 0)
		return jit_error_set(error, JIT_ERR_CRYPTO,
				     "cannot build a %s event: libsodium failed to initialise",
				     event_infos[ev->type].name);

	r = build_message(ev, &message);
	if (r == JIT_OK)
		r = add_fixed_fields(&list, ev, message);
	if (r == JIT_OK)
		r = add_optional_fields(&list, ev);
	free(message);

	if (r != JIT_OK) {
		jit_strlist_clear(&list);
		return jit_error_set(error, r, "cannot build a %s event: out of memory",
				     event_infos[ev->type].name);
	}

	jit_strlist_clear(fields);
	*fields = list;
	return JIT_OK;
}

static bool has_field(const jit_strlist *fields, const char *name,
		      size_t name_length, const char *suffix)
{
	size_t suffix_length = strlen(suffix);

	for (size_t i = 0; i < fields->count; i++) {
		const char *item = fields->items[i];

		if (strncmp(item, name, name_length) == 0 &&
		    strncmp(item + name_length, suffix, suffix_length) == 0 &&
		    item[name_length + suffix_length] == '=')
			return true;
	}
	return false;
}

/* Writes one NAME="value" pair of the syslog line. A value whose escaped
 * form is above JIT_EVENT_VALUE_MAX bytes is cut there too, and gains
 * NAME_LENGTH and NAME_SHA256 when the field list has none for it. */
static void write_syslog_pair(FILE *f, const jit_strlist *fields,
			      const char *item)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	const char *equals = strchr(item, '=');
	size_t name_length, value_length;
	const char *value;
	bool cut;

	if (equals == NULL)
		return;
	name_length = (size_t)(equals - item);
	value = equals + 1;
	value_length = strlen(value);

	fprintf(f, "%.*s=\"", (int)name_length, item);
	cut = write_escaped(f, value, JIT_EVENT_VALUE_MAX);
	fputs("\"", f);

	if (!cut || has_field(fields, item, name_length, "_LENGTH"))
		return;

	crypto_hash_sha256(digest, (const unsigned char *)value, value_length);
	sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
	fprintf(f, " %.*s_LENGTH=\"%zu\" %.*s_SHA256=\"%s\"",
		(int)name_length, item, value_length,
		(int)name_length, item, hex);
}

jit_err jit_event_format_syslog(const jit_strlist *fields, char **line,
				jit_error *error)
{
	char *text = NULL;
	size_t size = 0;
	bool failed;
	FILE *f;

	*line = NULL;

	if (sodium_init() < 0)
		return jit_error_set(error, JIT_ERR_CRYPTO,
				     "cannot format an event: libsodium failed to initialise");

	f = open_memstream(&text, &size);
	if (f == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "cannot format an event: out of memory");

	for (size_t i = 0; i < fields->count; i++) {
		if (i > 0)
			fputs(" ", f);
		write_syslog_pair(f, fields, fields->items[i]);
	}

	failed = ferror(f) != 0;
	/* glibc's fclose can return 0 yet leave the text NULL when shrinking
	 * the buffer fails for lack of memory. */
	if (fclose(f) != 0 || failed || text == NULL) {
		free(text);
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "cannot format an event: out of memory");
	}

	*line = text;
	return JIT_OK;
}

/* sd_journal_sendv() reports success when the journal socket does not
 * exist, so without this check an event would vanish on a host without
 * journald. */
static bool journal_available(void)
{
	struct stat st;

	return stat(JOURNAL_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int send_to_journal(const jit_strlist *fields)
{
	struct iovec *iov;
	int rc;

	if (!journal_available())
		return -ENOENT;

	iov = calloc(fields->count, sizeof(*iov));
	if (iov == NULL)
		return -ENOMEM;

	for (size_t i = 0; i < fields->count; i++) {
		iov[i].iov_base = fields->items[i];
		iov[i].iov_len = strlen(fields->items[i]);
	}

	rc = sd_journal_sendv(iov, (int)fields->count);
	free(iov);
	return rc;
}

jit_err jit_event_emit(const jit_event *ev, jit_error *error)
{
	jit_strlist fields = { 0 };
	char *line = NULL;
	jit_error local;
	jit_err r;

	jit_error_clear(&local);

	/* An event that cannot be built still leaves a trace, so a caller's
	 * failure to record is never silent. */
	r = jit_event_build(ev, &fields, &local);
	if (r != JIT_OK) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "jit: cannot record a %s event: %s",
		       jit_event_name(ev->type), local.message);
		return jit_error_set(error, r, "%s", local.message);
	}

	if (send_to_journal(&fields) >= 0)
		goto out;

	r = jit_event_format_syslog(&fields, &line, &local);
	if (r != JIT_OK) {
		syslog(LOG_AUTHPRIV | LOG_ERR, "jit: cannot record a %s event: %s",
		       jit_event_name(ev->type), local.message);
		r = jit_error_set(error, JIT_ERR_IO,
				  "journald is unreachable and %s", local.message);
		goto out;
	}
	syslog(LOG_AUTHPRIV | jit_event_priority(ev->type), "%s", line);
out:
	free(line);
	jit_strlist_clear(&fields);
	return r;
}
