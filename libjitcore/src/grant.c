#include "jit/grant.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define GRANT_MAGIC "JITG"
#define GRANT_MAGIC_LEN 4
#define GRANT_VERSION_OFFSET GRANT_MAGIC_LEN
#define GRANT_KEY_ID_OFFSET (GRANT_VERSION_OFFSET + 1)
#define GRANT_SIGNED_LEN_OFFSET (GRANT_KEY_ID_OFFSET + JIT_KEY_ID_LEN)
#define GRANT_HEADER_LEN (GRANT_SIGNED_LEN_OFFSET + 4)

/* Signatures cover this prefix, NUL included, before the signed bytes, so a
 * grant signature can never be taken for a signature over anything else. */
#define GRANT_SIGN_DOMAIN "jit-grant-v1"
#define GRANT_SIGN_DOMAIN_LEN sizeof(GRANT_SIGN_DOMAIN)

#define GRANT_FLAG_BREAK_GLASS 0x01u
#define GRANT_STRING_MAX 4096
#define GRANT_LIST_MAX 64

/* Encoding: a fixed buffer that remembers running out of room, so the
 * encoder is written straight and checked once at the end. */
typedef struct grant_writer {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool overflow;
} grant_writer;

/* Decoding: a cursor over the signed bytes. */
typedef struct grant_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
} grant_reader;

void jit_grant_free(jit_grant *grant)
{
	if (grant == NULL)
		return;

	free(grant->user);
	free(grant->role);
	free(grant->request_id);
	free(grant->requester);
	free(grant->reason);
	jit_strlist_clear(&grant->hosts);
	jit_strlist_clear(&grant->approvers);
	jit_strlist_clear(&grant->runas_users);
	jit_strlist_clear(&grant->runas_groups);
	jit_strlist_clear(&grant->services);
	for (size_t i = 0; i < grant->command_count; i++) {
		free(grant->commands[i].path);
		jit_strlist_clear(&grant->commands[i].args);
	}
	free(grant->commands);
	free(grant);
}

jit_err jit_grant_new(jit_grant **grant, jit_error *error)
{
	*grant = calloc(1, sizeof(**grant));
	if (*grant == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory creating a grant");
	(*grant)->version = JIT_GRANT_VERSION;
	return JIT_OK;
}

static jit_err strlist_copy(jit_strlist *to, const jit_strlist *from)
{
	for (size_t i = 0; i < from->count; i++) {
		jit_err r = jit_strlist_append(to, from->items[i]);

		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

jit_err jit_grant_add_command(jit_grant *grant, const char *path,
			      const jit_strlist *args, jit_error *error)
{
	jit_command command = { 0 };
	jit_command *commands;

	if (path == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "cannot add a command without a path");

	command.path = strdup(path);
	command.args_given = args != NULL;
	if (command.path == NULL ||
	    (args != NULL && strlist_copy(&command.args, args) != JIT_OK))
		goto nomem;

	commands = reallocarray(grant->commands, grant->command_count + 1,
				sizeof(*commands));
	if (commands == NULL)
		goto nomem;

	commands[grant->command_count++] = command;
	grant->commands = commands;
	return JIT_OK;

nomem:
	free(command.path);
	jit_strlist_clear(&command.args);
	return jit_error_set(error, JIT_ERR_NOMEM,
			     "out of memory adding a command to a grant");
}

void jit_grant_new_id(jit_grant *grant)
{
	/* Should initialisation fail, randombytes_buf opens the system's
	 * random source itself, and aborts the process rather than return
	 * predictable bytes when that fails too. */
	(void)jit_crypto_init(NULL);
	randombytes_buf(grant->id, sizeof(grant->id));
}

bool jit_grant_matches_host(const jit_grant *grant, const char *host)
{
	if (grant == NULL || host == NULL)
		return false;
	for (size_t i = 0; i < grant->hosts.count; i++)
		if (fnmatch(grant->hosts.items[i], host, 0) == 0)
			return true;
	return false;
}

/* Rules every grant obeys, checked before signing (a caller's mistake) and
 * after parsing (a grant no issuer could have made): the same function, so
 * the two sides cannot drift apart. */

static bool text_is_clean(const char *text)
{
	for (const char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

static const char *grant_problem_name(jit_err code)
{
	return code == JIT_ERR_MALFORMED ? "malformed grant" : "invalid grant";
}

/* Checks a free-text field. NULL counts as "" in the optional ones. */
static jit_err check_text(const char *text, const char *field, bool nonempty,
			  jit_err code, jit_error *error)
{
	if (text == NULL)
		text = "";
	if (nonempty && text[0] == '\0')
		return jit_error_set(error, code, "%s: %s is empty",
				     grant_problem_name(code), field);
	if (strnlen(text, GRANT_STRING_MAX + 1) > GRANT_STRING_MAX)
		return jit_error_set(error, code, "%s: %s is over %d bytes",
				     grant_problem_name(code), field,
				     GRANT_STRING_MAX);
	if (!text_is_clean(text))
		return jit_error_set(error, code, "%s: %s contains a control character",
				     grant_problem_name(code), field);
	return JIT_OK;
}

static jit_err check_name(const char *name, const char *field, jit_err code,
			  jit_error *error)
{
	if (name == NULL || !jit_valid_name(name))
		return jit_error_set(error, code, "%s: %s \"%.32s\" is not a valid user or group name",
				     grant_problem_name(code), field,
				     name != NULL && text_is_clean(name) ? name : "?");
	return JIT_OK;
}

static jit_err check_list(const jit_strlist *list, const char *field,
			  bool names, jit_err code, jit_error *error)
{
	if (list->count > GRANT_LIST_MAX)
		return jit_error_set(error, code, "%s: %zu %s, more than %d",
				     grant_problem_name(code), list->count,
				     field, GRANT_LIST_MAX);

	for (size_t i = 0; i < list->count; i++) {
		jit_err r = names ?
			check_name(list->items[i], field, code, error) :
			check_text(list->items[i], field, true, code, error);

		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

static jit_err check_command(const jit_command *command, jit_err code,
			     jit_error *error)
{
	jit_err r;

	r = check_text(command->path, "command path", true, code, error);
	if (r != JIT_OK)
		return r;
	if (strcmp(command->path, "ALL") != 0 && command->path[0] != '/')
		return jit_error_set(error, code, "%s: command \"%.64s\" is neither ALL nor an absolute path",
				     grant_problem_name(code), command->path);

	if (!command->args_given && command->args.count > 0)
		return jit_error_set(error, code, "%s: command %.64s lists arguments but does not restrict them",
				     grant_problem_name(code), command->path);
	if (command->args.count > GRANT_LIST_MAX)
		return jit_error_set(error, code, "%s: command %.64s has more than %d arguments",
				     grant_problem_name(code), command->path,
				     GRANT_LIST_MAX);
	for (size_t i = 0; i < command->args.count; i++) {
		r = check_text(command->args.items[i], "command argument",
			       false, code, error);
		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

static jit_err check_fields(const jit_grant *grant, jit_err code,
			    jit_error *error)
{
	jit_err r;

	r = check_name(grant->user, "user", code, error);
	if (r == JIT_OK)
		r = check_text(grant->role, "role", false, code, error);
	if (r == JIT_OK)
		r = check_text(grant->request_id, "request id", false, code, error);
	if (r == JIT_OK)
		r = check_text(grant->requester, "requester", false, code, error);
	if (r == JIT_OK)
		r = check_text(grant->reason, "reason", false, code, error);
	if (r == JIT_OK)
		r = check_list(&grant->hosts, "hosts", false, code, error);
	if (r == JIT_OK)
		r = check_list(&grant->approvers, "approvers", false, code, error);
	if (r == JIT_OK)
		r = check_list(&grant->runas_users, "runas users", true, code, error);
	if (r == JIT_OK)
		r = check_list(&grant->runas_groups, "runas groups", true, code, error);
	if (r == JIT_OK)
		r = check_list(&grant->services, "services", false, code, error);
	return r;
}

static jit_err grant_check(const jit_grant *grant, jit_err code,
			   jit_error *error)
{
	jit_err r;

	if (grant->not_before >= grant->not_after)
		return jit_error_set(error, code, "%s: not-before %lld is not earlier than not-after %lld",
				     grant_problem_name(code),
				     (long long)grant->not_before,
				     (long long)grant->not_after);

	r = check_fields(grant, code, error);
	if (r != JIT_OK)
		return r;

	if (grant->command_count > GRANT_LIST_MAX)
		return jit_error_set(error, code, "%s: %zu commands, more than %d",
				     grant_problem_name(code),
				     grant->command_count, GRANT_LIST_MAX);
	for (size_t i = 0; i < grant->command_count; i++) {
		r = check_command(&grant->commands[i], code, error);
		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

/* Encoding. */

static void put_bytes(grant_writer *w, const void *bytes, size_t len)
{
	if (len == 0)
		return;
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->data + w->len, bytes, len);
	w->len += len;
}

static void put_u8(grant_writer *w, uint8_t value)
{
	put_bytes(w, &value, 1);
}

static void put_u16(grant_writer *w, uint16_t value)
{
	uint8_t b[2] = { (uint8_t)(value >> 8), (uint8_t)value };

	put_bytes(w, b, sizeof(b));
}

static void put_u64(grant_writer *w, uint64_t value)
{
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(value >> (56 - 8 * i));
	put_bytes(w, b, sizeof(b));
}

/* Lengths and counts fit in a u16: grant_check bounded them already. */
static void put_string(grant_writer *w, const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;

	put_u16(w, (uint16_t)len);
	put_bytes(w, text, len);
}

static void put_list(grant_writer *w, const jit_strlist *list)
{
	put_u16(w, (uint16_t)list->count);
	for (size_t i = 0; i < list->count; i++)
		put_string(w, list->items[i]);
}

static void put_command(grant_writer *w, const jit_command *command)
{
	put_string(w, command->path);
	put_u8(w, command->args_given ? 1 : 0);
	if (command->args_given)
		put_list(w, &command->args);
}

/* Writes the signed region of grant, leaving signed_len zero. */
static void grant_encode(grant_writer *w, const jit_grant *grant,
			 const uint8_t key_id[JIT_KEY_ID_LEN])
{
	put_bytes(w, GRANT_MAGIC, GRANT_MAGIC_LEN);
	put_u8(w, JIT_GRANT_VERSION);
	put_bytes(w, key_id, JIT_KEY_ID_LEN);
	put_bytes(w, "\0\0\0\0", 4);

	put_bytes(w, grant->id, JIT_GRANT_ID_LEN);
	put_u64(w, (uint64_t)grant->not_before);
	put_u64(w, (uint64_t)grant->not_after);
	put_u64(w, (uint64_t)grant->issued_at);
	put_u8(w, grant->break_glass ? GRANT_FLAG_BREAK_GLASS : 0);

	put_string(w, grant->user);
	put_string(w, grant->role);
	put_string(w, grant->request_id);
	put_string(w, grant->requester);
	put_string(w, grant->reason);

	put_list(w, &grant->hosts);
	put_list(w, &grant->approvers);
	put_list(w, &grant->runas_users);
	put_list(w, &grant->runas_groups);
	put_list(w, &grant->services);

	put_u16(w, (uint16_t)grant->command_count);
	for (size_t i = 0; i < grant->command_count; i++)
		put_command(w, &grant->commands[i]);
}

/* Builds the message a grant signature covers: the domain prefix, then the
 * signed bytes exactly as they are stored. */
static uint8_t *grant_signed_message(const uint8_t *bytes, size_t len,
				     size_t *message_len)
{
	uint8_t *message = malloc(GRANT_SIGN_DOMAIN_LEN + len);

	if (message == NULL)
		return NULL;
	memcpy(message, GRANT_SIGN_DOMAIN, GRANT_SIGN_DOMAIN_LEN);
	memcpy(message + GRANT_SIGN_DOMAIN_LEN, bytes, len);
	*message_len = GRANT_SIGN_DOMAIN_LEN + len;
	return message;
}

/* Stores signed_len in the header, then appends the signature. */
static jit_err grant_writer_sign(grant_writer *w, const jit_issuer_key *key,
				 jit_error *error)
{
	uint8_t *message;
	size_t message_len = 0;
	jit_err r;

	for (size_t i = 0; i < 4; i++)
		w->data[GRANT_SIGNED_LEN_OFFSET + i] =
			(uint8_t)(w->len >> (24 - 8 * i));

	message = grant_signed_message(w->data, w->len, &message_len);
	if (message == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory signing a grant");

	r = jit_issuer_key_sign(key, message, message_len, w->data + w->len,
				error);
	free(message);
	if (r != JIT_OK)
		return r;

	w->len += JIT_GRANT_SIGNATURE_LEN;
	return JIT_OK;
}

jit_err jit_grant_sign(const jit_grant *grant, const jit_issuer_key *key,
		       uint8_t **blob, size_t *blob_len, jit_error *error)
{
	grant_writer w = { .cap = JIT_GRANT_MAX_BLOB - JIT_GRANT_SIGNATURE_LEN };
	uint8_t key_id[JIT_KEY_ID_LEN];
	uint8_t *shrunk;
	jit_err r;

	*blob = NULL;
	*blob_len = 0;

	r = grant_check(grant, JIT_ERR_INVALID, error);
	if (r != JIT_OK)
		return r;

	w.data = malloc(JIT_GRANT_MAX_BLOB);
	if (w.data == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory encoding a grant");

	jit_issuer_key_id(key, key_id);
	grant_encode(&w, grant, key_id);
	if (w.overflow) {
		r = jit_error_set(error, JIT_ERR_TOO_LARGE,
				  "grant for %s does not fit in %d bytes",
				  grant->user, JIT_GRANT_MAX_BLOB);
		goto out;
	}

	r = grant_writer_sign(&w, key, error);
	if (r != JIT_OK)
		goto out;

	shrunk = realloc(w.data, w.len);
	if (shrunk != NULL)
		w.data = shrunk;
	*blob = w.data;
	*blob_len = w.len;
	w.data = NULL;

out:
	free(w.data);
	return r;
}

/* Decoding. */

static uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Checks everything that needs no key and no parsing: size, magic, version
 * and that the signed length plus the signature is exactly the blob. A
 * signature that is cut short, extended or followed by bytes fails here,
 * before any crypto runs. */
static jit_err grant_check_framing(const uint8_t *blob, size_t blob_len,
				   size_t *signed_len, jit_error *error)
{
	uint32_t declared;

	if (blob == NULL || blob_len < GRANT_HEADER_LEN + JIT_GRANT_SIGNATURE_LEN)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %zu bytes is too short for a grant",
				     blob != NULL ? blob_len : 0);
	if (blob_len > JIT_GRANT_MAX_BLOB)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %zu bytes is over the limit of %d",
				     blob_len, JIT_GRANT_MAX_BLOB);
	if (memcmp(blob, GRANT_MAGIC, GRANT_MAGIC_LEN) != 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: it does not start with \"%s\"",
				     GRANT_MAGIC);
	if (blob[GRANT_VERSION_OFFSET] != JIT_GRANT_VERSION)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "unsupported grant format version %u",
				     (unsigned)blob[GRANT_VERSION_OFFSET]);

	declared = load_u32(blob + GRANT_SIGNED_LEN_OFFSET);
	if (declared < GRANT_HEADER_LEN ||
	    (size_t)declared + JIT_GRANT_SIGNATURE_LEN != blob_len)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %zu bytes do not match its signed length %u plus a %d-byte signature",
				     blob_len, (unsigned)declared,
				     JIT_GRANT_SIGNATURE_LEN);

	*signed_len = declared;
	return JIT_OK;
}

static jit_err read_fail(const char *field, jit_error *error)
{
	return jit_error_set(error, JIT_ERR_MALFORMED,
			     "malformed grant: %s runs past the signed bytes",
			     field);
}

static jit_err get_bytes(grant_reader *rd, void *out, size_t len,
			 const char *field, jit_error *error)
{
	if (len > rd->len - rd->pos)
		return read_fail(field, error);
	memcpy(out, rd->data + rd->pos, len);
	rd->pos += len;
	return JIT_OK;
}

static jit_err get_u8(grant_reader *rd, uint8_t *value, const char *field,
		      jit_error *error)
{
	return get_bytes(rd, value, 1, field, error);
}

static jit_err get_u16(grant_reader *rd, uint16_t *value, const char *field,
		       jit_error *error)
{
	uint8_t b[2];
	jit_err r;

	r = get_bytes(rd, b, sizeof(b), field, error);
	if (r == JIT_OK)
		*value = (uint16_t)(b[0] << 8 | b[1]);
	return r;
}

static jit_err get_i64(grant_reader *rd, int64_t *value, const char *field,
		       jit_error *error)
{
	uint8_t b[8];
	uint64_t u = 0;
	jit_err r;

	r = get_bytes(rd, b, sizeof(b), field, error);
	if (r != JIT_OK)
		return r;
	for (size_t i = 0; i < sizeof(b); i++)
		u = u << 8 | b[i];
	*value = (int64_t)u;
	return JIT_OK;
}

/* Reads a u16 length and that many bytes into a new C string. Bytes that a
 * C string cannot hold faithfully (NUL) or that could forge lines in logs
 * (control characters) are rejected here, on the raw bytes. */
static jit_err get_string(grant_reader *rd, char **text, const char *field,
			  jit_error *error)
{
	const uint8_t *bytes;
	uint16_t len = 0;
	jit_err r;

	r = get_u16(rd, &len, field, error);
	if (r != JIT_OK)
		return r;
	if (len > GRANT_STRING_MAX)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %s is over %d bytes",
				     field, GRANT_STRING_MAX);
	if (len > rd->len - rd->pos)
		return read_fail(field, error);

	bytes = rd->data + rd->pos;
	for (size_t i = 0; i < len; i++)
		if (bytes[i] < 0x20 || bytes[i] == 0x7f)
			return jit_error_set(error, JIT_ERR_MALFORMED,
					     "malformed grant: %s contains a control character",
					     field);

	*text = malloc((size_t)len + 1);
	if (*text == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory parsing a grant");
	memcpy(*text, bytes, len);
	(*text)[len] = '\0';
	rd->pos += len;
	return JIT_OK;
}

static jit_err get_list(grant_reader *rd, jit_strlist *list, const char *field,
			jit_error *error)
{
	uint16_t count = 0;
	jit_err r;

	r = get_u16(rd, &count, field, error);
	if (r != JIT_OK)
		return r;
	if (count > GRANT_LIST_MAX)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %u %s, more than %d",
				     (unsigned)count, field, GRANT_LIST_MAX);

	list->items = calloc(count > 0 ? count : 1, sizeof(*list->items));
	if (list->items == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory parsing a grant");
	for (size_t i = 0; i < count; i++) {
		r = get_string(rd, &list->items[i], field, error);
		if (r != JIT_OK)
			return r;
		list->count++;
	}
	return JIT_OK;
}

static jit_err get_command(grant_reader *rd, jit_command *command,
			   jit_error *error)
{
	uint8_t args_given = 0;
	jit_err r;

	r = get_string(rd, &command->path, "command path", error);
	if (r == JIT_OK)
		r = get_u8(rd, &args_given, "command argument flag", error);
	if (r != JIT_OK)
		return r;
	if (args_given > 1)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: command argument flag is %u, not 0 or 1",
				     (unsigned)args_given);

	command->args_given = args_given == 1;
	if (command->args_given)
		r = get_list(rd, &command->args, "command arguments", error);
	return r;
}

static jit_err get_commands(grant_reader *rd, jit_grant *grant,
			    jit_error *error)
{
	uint16_t count = 0;
	jit_err r;

	r = get_u16(rd, &count, "commands", error);
	if (r != JIT_OK)
		return r;
	if (count > GRANT_LIST_MAX)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: %u commands, more than %d",
				     (unsigned)count, GRANT_LIST_MAX);

	grant->commands = calloc(count > 0 ? count : 1, sizeof(*grant->commands));
	if (grant->commands == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory parsing a grant");
	for (size_t i = 0; i < count; i++) {
		/* Counted before filling, so a half-read command is freed too. */
		grant->command_count++;
		r = get_command(rd, &grant->commands[i], error);
		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

static jit_err get_fixed_fields(grant_reader *rd, jit_grant *grant,
				jit_error *error)
{
	uint8_t flags = 0;
	jit_err r;

	r = get_bytes(rd, grant->id, JIT_GRANT_ID_LEN, "grant id", error);
	if (r == JIT_OK)
		r = get_i64(rd, &grant->not_before, "not-before", error);
	if (r == JIT_OK)
		r = get_i64(rd, &grant->not_after, "not-after", error);
	if (r == JIT_OK)
		r = get_i64(rd, &grant->issued_at, "issued-at", error);
	if (r == JIT_OK)
		r = get_u8(rd, &flags, "flags", error);
	if (r != JIT_OK)
		return r;

	if ((flags & ~GRANT_FLAG_BREAK_GLASS) != 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "malformed grant: unknown flags 0x%02x",
				     (unsigned)flags);
	grant->break_glass = (flags & GRANT_FLAG_BREAK_GLASS) != 0;
	return JIT_OK;
}

static jit_err get_variable_fields(grant_reader *rd, jit_grant *grant,
				   jit_error *error)
{
	jit_err r;

	r = get_string(rd, &grant->user, "user", error);
	if (r == JIT_OK)
		r = get_string(rd, &grant->role, "role", error);
	if (r == JIT_OK)
		r = get_string(rd, &grant->request_id, "request id", error);
	if (r == JIT_OK)
		r = get_string(rd, &grant->requester, "requester", error);
	if (r == JIT_OK)
		r = get_string(rd, &grant->reason, "reason", error);
	if (r == JIT_OK)
		r = get_list(rd, &grant->hosts, "hosts", error);
	if (r == JIT_OK)
		r = get_list(rd, &grant->approvers, "approvers", error);
	if (r == JIT_OK)
		r = get_list(rd, &grant->runas_users, "runas users", error);
	if (r == JIT_OK)
		r = get_list(rd, &grant->runas_groups, "runas groups", error);
	if (r == JIT_OK)
		r = get_list(rd, &grant->services, "services", error);
	if (r == JIT_OK)
		r = get_commands(rd, grant, error);
	return r;
}

/* Parses the signed region of a framed blob, which must be used up exactly. */
static jit_err grant_parse(const uint8_t *blob, size_t signed_len,
			   jit_grant **grant, jit_error *error)
{
	grant_reader rd = { .data = blob, .len = signed_len,
			    .pos = GRANT_HEADER_LEN };
	jit_grant *g = NULL;
	jit_err r;

	*grant = NULL;

	r = jit_grant_new(&g, error);
	if (r != JIT_OK)
		return r;
	g->version = blob[GRANT_VERSION_OFFSET];
	memcpy(g->key_id, blob + GRANT_KEY_ID_OFFSET, JIT_KEY_ID_LEN);

	r = get_fixed_fields(&rd, g, error);
	if (r == JIT_OK)
		r = get_variable_fields(&rd, g, error);
	if (r != JIT_OK)
		goto out;

	if (rd.pos != rd.len) {
		r = jit_error_set(error, JIT_ERR_MALFORMED,
				  "malformed grant: %zu bytes left over after the last field",
				  rd.len - rd.pos);
		goto out;
	}
	r = grant_check(g, JIT_ERR_MALFORMED, error);
	if (r != JIT_OK)
		goto out;

	*grant = g;
	g = NULL;

out:
	jit_grant_free(g);
	return r;
}

jit_err jit_grant_parse_unverified(const uint8_t *blob, size_t blob_len,
				   jit_grant **grant, jit_error *error)
{
	size_t signed_len = 0;
	jit_err r;

	*grant = NULL;

	r = grant_check_framing(blob, blob_len, &signed_len, error);
	if (r != JIT_OK)
		return r;
	return grant_parse(blob, signed_len, grant, error);
}

static jit_err grant_check_signature(const uint8_t *blob, size_t signed_len,
				     const uint8_t *public_key,
				     jit_error *error)
{
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	uint8_t *message;
	size_t message_len = 0;
	int rc;

	message = grant_signed_message(blob, signed_len, &message_len);
	if (message == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory verifying a grant");
	rc = crypto_sign_verify_detached(blob + signed_len, message,
					 message_len, public_key);
	free(message);

	if (rc != 0) {
		jit_key_id_format(blob + GRANT_KEY_ID_OFFSET, hex);
		return jit_error_set(error, JIT_ERR_BAD_SIGNATURE,
				     "grant signature does not verify with key %s",
				     hex);
	}
	return JIT_OK;
}

jit_err jit_grant_verify(const uint8_t *blob, size_t blob_len,
			 const jit_keyring *keys, jit_grant **grant,
			 jit_error *error)
{
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	const uint8_t *public_key;
	size_t signed_len = 0;
	jit_err r;

	*grant = NULL;

	r = grant_check_framing(blob, blob_len, &signed_len, error);
	if (r != JIT_OK)
		return r;

	public_key = jit_keyring_find(keys, blob + GRANT_KEY_ID_OFFSET);
	if (public_key == NULL) {
		jit_key_id_format(blob + GRANT_KEY_ID_OFFSET, hex);
		return jit_error_set(error, JIT_ERR_UNKNOWN_KEY,
				     "grant is signed by key %s, which is not trusted",
				     hex);
	}

	r = jit_crypto_init(error);
	if (r != JIT_OK)
		return r;
	r = grant_check_signature(blob, signed_len, public_key, error);
	if (r != JIT_OK)
		return r;

	return grant_parse(blob, signed_len, grant, error);
}
