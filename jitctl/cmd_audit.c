/* jitctl audit: one grant's story, the chain as JSON lines, and the
 * verification of the chain. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jitctl.h"

enum {
	OPT_SINCE = CTL_OPT_FIRST,
	OPT_VERIFY,
	OPT_CHECKPOINT,
};

/* The longest look back --since accepts as a duration: ten years. */
#define AUDIT_SINCE_MAX ((int64_t)10 * 366 * 24 * 3600)

typedef struct audit_options {
	const char *id;
	const char *since_text;
	int64_t since;
	bool verify;
	bool checkpoint;
} audit_options;

static const char *or_someone(const char *text)
{
	return text != NULL && text[0] != '\0' ? text : "someone";
}

static const char *detail(const jit_chain_record *record, const char *key)
{
	const char *value = jit_chain_record_detail(record, key);

	return value != NULL ? value : "";
}

/* Formats a detail holding seconds since the epoch, or "-". */
static void detail_time(const jit_chain_record *record, const char *key,
			char *out, size_t out_len)
{
	const char *value = jit_chain_record_detail(record, key);

	if (value == NULL || value[0] == '\0') {
		snprintf(out, out_len, "-");
		return;
	}
	output_time(strtoll(value, NULL, 10), out, out_len);
}

static void say_grant(const jit_chain_record *r)
{
	char until[32];

	detail_time(r, "not_after", until, sizeof(until));
	if (strcmp(r->type, "break-glass-used") == 0)
		printf("%s used break-glass: grant %s was issued without approval, role %s, until %s; reason: %s.\n",
		       or_someone(r->user), r->grant_id, detail(r, "role"),
		       until, detail(r, "reason"));
	else if (strcmp(r->type, "grant-imported") == 0)
		printf("%s imported grant %s for %s, role %s, until %s; reason: %s.\n",
		       or_someone(r->actor), r->grant_id, r->user,
		       detail(r, "role"), until, detail(r, "reason"));
	else
		printf("%s issued grant %s to %s, role %s, until %s; reason: %s.\n",
		       or_someone(r->actor), r->grant_id, r->user,
		       detail(r, "role"), until, detail(r, "reason"));
}

static void say_access(const jit_chain_record *r)
{
	bool allowed = strcmp(r->type, "access-allowed") == 0;
	const char *command = detail(r, "command");
	const char *service = detail(r, "service");
	const char *rhost = detail(r, "rhost");

	if (command[0] != '\0')
		printf("%s %s sudo to run \"%s\" as %s%s%s.\n", r->user,
		       allowed ? "used" : "was denied", command,
		       or_someone(detail(r, "runas")),
		       allowed ? "" : ": ",
		       allowed ? "" : detail(r, "deny_reason"));
	else
		printf("%s %s a login to %s%s%s%s%s.\n", r->user,
		       allowed ? "was allowed" : "was denied",
		       service[0] != '\0' ? service : "a PAM service",
		       rhost[0] != '\0' ? " from " : "", rhost,
		       allowed ? "" : ": ",
		       allowed ? "" : detail(r, "deny_reason"));
}

static void say_request(const jit_chain_record *r)
{
	const char *note = detail(r, "note");

	if (strcmp(r->type, "request-created") == 0)
		printf("%s requested role %s (request %s); reason: %s.\n",
		       r->user, detail(r, "role"), r->request_id,
		       detail(r, "reason"));
	else if (strcmp(r->type, "request-approved") == 0)
		printf("%s approved request %s%s%s.\n", or_someone(r->actor),
		       r->request_id, note[0] != '\0' ? ": " : "", note);
	else if (strcmp(r->type, "request-denied") == 0)
		printf("%s denied request %s%s%s.\n", or_someone(r->actor),
		       r->request_id, note[0] != '\0' ? ": " : "", note);
	else if (strcmp(r->type, "request-cancelled") == 0)
		printf("%s cancelled request %s.\n", or_someone(r->actor),
		       r->request_id);
	else
		printf("Request %s expired without a decision.\n",
		       r->request_id);
}

/* Prints one record as a sentence, after its time. */
static void say_record(const jit_chain_record *r)
{
	const char *note = detail(r, "note");
	char when[32];

	output_time(r->time_ms / 1000, when, sizeof(when));
	printf("%s  ", when);
	if (strcmp(r->type, "grant-issued") == 0 ||
	    strcmp(r->type, "grant-imported") == 0 ||
	    strcmp(r->type, "break-glass-used") == 0)
		say_grant(r);
	else if (strncmp(r->type, "access-", 7) == 0)
		say_access(r);
	else if (strncmp(r->type, "request-", 8) == 0)
		say_request(r);
	else if (strcmp(r->type, "grant-revoked") == 0)
		printf("%s revoked grant %s; reason: %s.\n",
		       or_someone(r->actor), r->grant_id, detail(r, "reason"));
	else if (strcmp(r->type, "grant-removed") == 0)
		printf("jitctl reap removed grant %s after it ended.\n",
		       r->grant_id);
	else if (strcmp(r->type, "grant-reviewed") == 0)
		printf("%s reviewed break-glass grant %s%s%s.\n",
		       or_someone(r->actor), r->grant_id,
		       note[0] != '\0' ? ": " : "", note);
	else if (strcmp(r->type, "session-opened") == 0)
		printf("A %s session of %s opened under grant %s.\n",
		       detail(r, "service"), r->user, r->grant_id);
	else if (strcmp(r->type, "session-closed") == 0)
		printf("The %s session of %s closed.\n", detail(r, "service"),
		       r->user);
	else if (strcmp(r->type, "session-ended") == 0)
		printf("%s ended the %s session of %s because grant %s is over.\n",
		       or_someone(r->actor), detail(r, "service"), r->user,
		       r->grant_id);
	else if (strcmp(r->type, "grant-expiring-warning") == 0)
		printf("%s was warned on the %s session that grant %s ends soon.\n",
		       r->user, detail(r, "service"), r->grant_id);
	else if (strcmp(r->type, JIT_CHAIN_PRUNED) == 0)
		printf("%s removed the evidence of ended grants up to record %s.\n",
		       or_someone(r->actor), detail(r, "through"));
	else
		printf("%s: user %s, actor %s.\n", r->type, r->user,
		       or_someone(r->actor));
}

static bool matches(const jit_chain_record *r, const char *id,
		    const jit_strlist *requests)
{
	if (strcmp(r->grant_id, id) == 0 || strcmp(r->request_id, id) == 0)
		return true;
	return r->request_id[0] != '\0' &&
	       jit_strlist_contains(requests, r->request_id);
}

/* Prints the story of a grant (or a request): its records, and those of
 * the request it came from, in chain order, which is time order. */
static int print_story(const jitctl *ctl, const char *id,
		       const jit_chain_record *records, size_t count)
{
	jit_strlist requests = { 0 };
	size_t shown = 0;

	for (size_t i = 0; i < count; i++) {
		const jit_chain_record *r = &records[i];

		if (strcmp(r->grant_id, id) == 0 && r->request_id[0] != '\0' &&
		    !jit_strlist_contains(&requests, r->request_id) &&
		    jit_strlist_append(&requests, r->request_id) != JIT_OK) {
			jit_strlist_clear(&requests);
			ctl_error(ctl, "out of memory");
			return CTL_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < count; i++) {
		if (!matches(&records[i], id, &requests))
			continue;
		say_record(&records[i]);
		shown++;
	}
	jit_strlist_clear(&requests);

	if (shown == 0) {
		ctl_error(ctl, "no evidence records name %s; check the id with 'jitctl list --all' or 'jitctl requests --all'",
			  id);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static json_object *text_or_null(const char *text)
{
	return text[0] != '\0' ? json_object_new_string(text) : NULL;
}

static json_object *record_json(const jit_chain_record *r)
{
	char hash[2 * JIT_CHAIN_HASH_LEN + 1];
	char prev[2 * JIT_CHAIN_HASH_LEN + 1];
	json_object *object = json_object_new_object();
	json_object *details = json_object_new_object();
	json_builder b = { .failed = object == NULL || details == NULL };
	char when[32];

	output_time(r->time_ms / 1000, when, sizeof(when));
	sodium_bin2hex(hash, sizeof(hash), r->hash, JIT_CHAIN_HASH_LEN);
	sodium_bin2hex(prev, sizeof(prev), r->prev_hash, JIT_CHAIN_HASH_LEN);
	for (size_t i = 0; i < r->detail_count; i++)
		json_put(&b, details, r->details[i].key,
			 json_object_new_string(r->details[i].value));

	json_put(&b, object, "seq", json_object_new_uint64(r->seq));
	json_put(&b, object, "time", json_object_new_string(when));
	json_put(&b, object, "time_ms", json_object_new_int64(r->time_ms));
	json_put(&b, object, "type", json_object_new_string(r->type));
	json_object_object_add(object, "grant_id", text_or_null(r->grant_id));
	json_object_object_add(object, "request_id", text_or_null(r->request_id));
	json_object_object_add(object, "user", text_or_null(r->user));
	json_object_object_add(object, "actor", text_or_null(r->actor));
	json_put(&b, object, "details", details);
	json_put(&b, object, "prev_hash", json_object_new_string(prev));
	json_put(&b, object, "hash", json_object_new_string(hash));

	if (b.failed) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* Prints the records at or after since, one JSON object or sentence per
 * line. */
static int print_since(const jitctl *ctl, int64_t since,
		       const jit_chain_record *records, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		json_object *object;
		const char *text;

		if (records[i].time_ms / 1000 < since)
			continue;
		if (!ctl->json) {
			say_record(&records[i]);
			continue;
		}
		object = record_json(&records[i]);
		text = object != NULL ?
		       json_object_to_json_string_ext(object,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
		if (text == NULL) {
			json_object_put(object);
			ctl_error(ctl, "out of memory while writing JSON output");
			return CTL_EXIT_FAIL;
		}
		printf("%s\n", text);
		json_object_put(object);
	}
	return CTL_EXIT_OK;
}

static int verify_chain(const jitctl *ctl, jit_store *store)
{
	char hash[2 * JIT_CHAIN_HASH_LEN + 1];
	jit_chain_verdict verdict;
	jit_keyring *keys = NULL;
	jit_error error;
	int r;

	r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		return r;
	jit_error_clear(&error);
	r = jit_store_chain_verify_signed(store, keys, &verdict, &error);
	jit_keyring_free(keys);
	if (r != JIT_OK)
		return ctl_lib_error(ctl, &error);

	if (!verdict.intact) {
		printf("chain broken at record %llu: %s\n",
		       (unsigned long long)verdict.broken_seq, verdict.problem);
		return CTL_EXIT_FAIL;
	}
	sodium_bin2hex(hash, sizeof(hash), verdict.head_hash,
		       JIT_CHAIN_HASH_LEN);
	printf("chain intact: %llu records, head %llu %s\n",
	       (unsigned long long)verdict.records,
	       (unsigned long long)verdict.head_seq, hash);
	if (verdict.checkpoints == 0)
		printf("no signed checkpoint yet: run jitctl reap or jitctl audit --checkpoint\n");
	else
		printf("%llu signed checkpoint%s, the newest at record %llu\n",
		       (unsigned long long)verdict.checkpoints,
		       verdict.checkpoints == 1 ? "" : "s",
		       (unsigned long long)verdict.last_checkpoint);
	return CTL_EXIT_OK;
}

int ctl_chain_checkpoint(const jitctl *ctl, jit_store *store, bool print)
{
	jit_issuer_key *key = NULL;
	jit_error error;
	uint64_t seq = 0;
	int r = CTL_EXIT_OK;

	jit_error_clear(&error);
	if (jit_issuer_key_load(ctl->config->issuer_key, &key, &error) != JIT_OK) {
		/* A host that only imports grants has no issuer key. */
		if (!print && error.code == JIT_ERR_NOT_FOUND) {
			ctl_warn(ctl, "no issuer key at %s, so no checkpoint of the evidence chain was signed",
				 ctl->config->issuer_key);
			return CTL_EXIT_OK;
		}
		r = ctl_lib_error(ctl, &error);
	} else if (jit_store_chain_checkpoint(store, key, &seq, &error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
	}
	jit_issuer_key_free(key);
	if (r == CTL_EXIT_OK && print)
		printf("signed a checkpoint at record %llu\n",
		       (unsigned long long)seq);
	return r;
}

static int audit_checkpoint(const jitctl *ctl)
{
	jit_store *store = NULL;
	int r;

	if (geteuid() != 0) {
		ctl_error(ctl, "--checkpoint signs with the issuer key: run it as root");
		return CTL_EXIT_FAIL;
	}
	r = ctl_store_open(ctl, JIT_STORE_WRITE, &store);
	if (r == CTL_EXIT_OK)
		r = ctl_chain_checkpoint(ctl, store, true);
	jit_store_close(store);
	return r;
}

static int audit(const jitctl *ctl, const audit_options *o)
{
	jit_chain_record *records = NULL;
	jit_store *store = NULL;
	size_t count = 0;
	jit_error error;
	int r;

	r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	if (r != CTL_EXIT_OK)
		return r;

	if (o->verify) {
		r = verify_chain(ctl, store);
		goto out;
	}

	jit_error_clear(&error);
	if (jit_store_chain_load(store, 1, 0, &records, &count, &error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
		goto out;
	}
	if (o->id != NULL)
		r = print_story(ctl, o->id, records, count);
	else
		r = print_since(ctl, o->since, records, count);
out:
	jit_chain_records_free(records, count);
	jit_store_close(store);
	return r;
}

/* --since takes a duration back from now ("30d") or a time. */
static int parse_since(const jitctl *ctl, audit_options *o)
{
	int64_t now = ctl->now_ms / 1000;
	int64_t seconds;
	jit_error error;

	if (o->since_text == NULL)
		return CTL_EXIT_OK;
	if (jit_duration_parse(o->since_text, AUDIT_SINCE_MAX, &seconds,
			       NULL) == JIT_OK) {
		o->since = now - seconds;
		return CTL_EXIT_OK;
	}
	jit_error_clear(&error);
	if (jit_time_parse(o->since_text, now, &o->since, &error) != JIT_OK)
		return ctl_usage_error(ctl, "invalid --since '%s': give a duration such as 30d or a time such as 2026-12-01T00:00:00Z",
				       o->since_text);
	return CTL_EXIT_OK;
}

static int check_modes(const jitctl *ctl, const audit_options *o)
{
	int modes = (o->id != NULL) + (o->since_text != NULL) + o->verify +
		    o->checkpoint;

	if (modes == 0)
		return ctl_usage_error(ctl, "give a grant or request ID, --since TIME, --verify or --checkpoint");
	if (modes > 1)
		return ctl_usage_error(ctl, "ID, --since, --verify and --checkpoint cannot be combined");
	if (ctl->json && o->since_text == NULL)
		return ctl_usage_error(ctl, "--json goes with --since");
	return CTL_EXIT_OK;
}

int cmd_audit(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "checkpoint", no_argument, NULL, OPT_CHECKPOINT },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	audit_options o = { 0 };
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_SINCE)
			o.since_text = optarg;
		else if (opt == OPT_VERIFY)
			o.verify = true;
		else if (opt == OPT_CHECKPOINT)
			o.checkpoint = true;
		else if (opt == CTL_OPT_JSON)
			ctl->json = true;
		else if ((r = ctl_common_option(ctl, opt, argv)) != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		o.id = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	r = check_modes(ctl, &o);
	if (r == CTL_EXIT_OK)
		r = ctl_prepare(ctl);
	if (r == CTL_EXIT_OK)
		r = parse_since(ctl, &o);
	if (r != CTL_EXIT_OK)
		return r;
	if (o.checkpoint)
		return audit_checkpoint(ctl);
	return audit(ctl, &o);
}
