#include "jit/decision.h"
#include "jit/issue.h"
#include "jit/timeutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *jit_reason_name(jit_reason reason)
{
	switch (reason) {
	case JIT_REASON_ALLOW: return "allow";
	case JIT_REASON_NO_GRANT: return "no-grant";
	case JIT_REASON_EXPIRED: return "expired";
	case JIT_REASON_NOT_YET_VALID: return "not-yet-valid";
	case JIT_REASON_REVOKED: return "revoked";
	case JIT_REASON_WRONG_HOST: return "wrong-host";
	case JIT_REASON_WRONG_USER: return "wrong-user";
	case JIT_REASON_OUT_OF_SCOPE: return "out-of-scope";
	case JIT_REASON_BAD_SIGNATURE: return "bad-signature";
	case JIT_REASON_UNKNOWN_KEY: return "unknown-key";
	case JIT_REASON_MALFORMED: return "malformed";
	case JIT_REASON_STORE_ERROR: return "store-error";
	case JIT_REASON_CONFIG_ERROR: return "config-error";
	case JIT_REASON_AUTH_FAILED: return "auth-failed";
	case JIT_REASON_INTERNAL_ERROR: return "internal-error";
	}
	return "internal-error";
}

/* Ranks how close a denying grant came to allowing, so the denial names
 * the most useful reason. An expired grant that covers the request tells
 * the user more than a grant for another command, and that in turn tells
 * more than a forged one. */
static int closeness(jit_reason reason)
{
	switch (reason) {
	case JIT_REASON_ALLOW: return 100;
	case JIT_REASON_EXPIRED: return 90;
	case JIT_REASON_NOT_YET_VALID: return 85;
	case JIT_REASON_REVOKED: return 80;
	case JIT_REASON_OUT_OF_SCOPE: return 70;
	case JIT_REASON_WRONG_HOST: return 60;
	case JIT_REASON_WRONG_USER: return 50;
	case JIT_REASON_BAD_SIGNATURE: return 40;
	case JIT_REASON_UNKNOWN_KEY: return 30;
	case JIT_REASON_MALFORMED: return 20;
	default: return 0;
	}
}

static bool command_args_match(const jit_command *command,
			       const jit_access *access)
{
	if (!command->args_given)
		return true;
	if (command->args.count != access->argc)
		return false;
	for (size_t i = 0; i < access->argc; i++)
		if (strcmp(command->args.items[i], access->argv[i]) != 0)
			return false;
	return true;
}

static bool runas_covered(const jit_grant *grant, const jit_access *access)
{
	const char *user = access->runas_user != NULL ? access->runas_user : "root";

	if (grant->runas_users.count == 0) {
		if (strcmp(user, "root") != 0)
			return false;
	} else if (!jit_strlist_contains(&grant->runas_users, user)) {
		return false;
	}

	if (access->runas_group != NULL &&
	    !jit_strlist_contains(&grant->runas_groups, access->runas_group))
		return false;
	return true;
}

bool jit_grant_covers(const jit_grant *grant, const jit_access *access)
{
	if (access->kind == JIT_ACCESS_SERVICE)
		return access->service != NULL &&
		       jit_strlist_contains(&grant->services, access->service);

	if (!runas_covered(grant, access))
		return false;

	for (size_t i = 0; i < grant->command_count; i++) {
		const jit_command *command = &grant->commands[i];

		if (strcmp(command->path, "ALL") == 0)
			return true;
		if (access->shell || access->command == NULL)
			continue;
		if (strcmp(command->path, access->command) == 0 &&
		    command_args_match(command, access))
			return true;
	}
	return false;
}

static jit_reason reason_for_verify_error(jit_err r)
{
	switch (r) {
	case JIT_ERR_UNKNOWN_KEY: return JIT_REASON_UNKNOWN_KEY;
	case JIT_ERR_BAD_SIGNATURE: return JIT_REASON_BAD_SIGNATURE;
	case JIT_ERR_NOMEM: return JIT_REASON_INTERNAL_ERROR;
	default: return JIT_REASON_MALFORMED;
	}
}

/* Appends " ARG..." to out, cut with "..." when it does not fit. */
static void append_arguments(const jit_access *access, char *out, size_t len)
{
	size_t used = strlen(out);

	for (size_t i = 0; i < access->argc && used + 1 < len; i++) {
		snprintf(out + used, len - used, " %s", access->argv[i]);
		used = strlen(out);
	}
	if (used + 1 >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
}

static void describe_access(const jit_access *access, char *out, size_t len)
{
	const char *runas = access->runas_user != NULL ? access->runas_user : "root";
	char command[300];

	if (access->kind == JIT_ACCESS_SERVICE) {
		snprintf(out, len, "service %.64s", access->service);
		return;
	}
	if (access->shell || access->command == NULL) {
		snprintf(out, len, "a shell as %.64s", runas);
		return;
	}

	snprintf(command, sizeof(command), "%.256s", access->command);
	append_arguments(access, command, sizeof(command));
	snprintf(out, len, "%s as %.64s", command, runas);
}

/* Converts seconds to milliseconds, saturating instead of overflowing:
 * a signed grant may carry any 64-bit time. */
static int64_t seconds_to_ms(int64_t seconds)
{
	int64_t ms;

	if (__builtin_mul_overflow(seconds, 1000, &ms))
		return seconds < 0 ? INT64_MIN : INT64_MAX;
	return ms;
}

/* The time rules, shared by decisions and listings: clock_skew widens
 * not_before only, and from not_after on a grant has expired. */
static jit_reason time_reason(const jit_config *config, const jit_grant *grant,
			      int64_t now_ms)
{
	int64_t not_before;

	if (now_ms >= seconds_to_ms(grant->not_after))
		return JIT_REASON_EXPIRED;
	if (__builtin_sub_overflow(grant->not_before, config->clock_skew, &not_before))
		not_before = INT64_MIN;
	if (now_ms < seconds_to_ms(not_before))
		return JIT_REASON_NOT_YET_VALID;
	return JIT_REASON_ALLOW;
}

static int64_t remaining_ms(int64_t not_after, int64_t now_ms)
{
	int64_t remaining;

	if (__builtin_sub_overflow(seconds_to_ms(not_after), now_ms, &remaining))
		return INT64_MAX;
	return remaining;
}

int64_t jit_decision_timeout(const jit_decision *decision, int64_t now_ms)
{
	int64_t remaining = remaining_ms(decision->not_after, now_ms);

	if (remaining < JIT_COMMAND_MIN_REMAINING_MS)
		return 0;
	if (remaining / 1000 >= INT_MAX)
		return INT_MAX;
	/* Rounded up, so sudo is still there when the grant ends and jitctl
	 * watch can end the whole session, not only sudo's own child. */
	return (remaining + 999) / 1000;
}

/* Judges one grant that verified. The checks run in the order closeness()
 * ranks them, so scope is checked before revocation and time. */
static jit_reason judge_grant(const jit_config *config, const jit_grant *grant,
			      bool revoked, const jit_access *access,
			      const char *host, int64_t now_ms)
{
	jit_reason reason;

	if (strcmp(grant->user, access->user) != 0)
		return JIT_REASON_WRONG_USER;
	if (!jit_grant_matches_host(grant, host))
		return JIT_REASON_WRONG_HOST;
	if (!jit_grant_covers(grant, access))
		return JIT_REASON_OUT_OF_SCOPE;
	if (revoked)
		return JIT_REASON_REVOKED;

	reason = time_reason(config, grant, now_ms);
	if (reason != JIT_REASON_ALLOW)
		return reason;
	if (access->kind == JIT_ACCESS_COMMAND &&
	    remaining_ms(grant->not_after, now_ms) < JIT_COMMAND_MIN_REMAINING_MS)
		return JIT_REASON_EXPIRED;
	return JIT_REASON_ALLOW;
}

jit_grant_state jit_grant_state_at(const jit_config *config,
				   const jit_grant *grant, bool revoked,
				   int64_t now_ms)
{
	jit_reason reason;

	if (revoked)
		return JIT_STATE_REVOKED;
	reason = time_reason(config, grant, now_ms);
	if (reason == JIT_REASON_EXPIRED)
		return JIT_STATE_EXPIRED;
	if (!jit_grant_matches_host(grant, config->hostname))
		return JIT_STATE_OTHER_HOST;
	if (reason == JIT_REASON_NOT_YET_VALID)
		return JIT_STATE_NOT_YET_VALID;
	return JIT_STATE_ACTIVE;
}

const char *jit_grant_state_name(jit_grant_state state)
{
	switch (state) {
	case JIT_STATE_ACTIVE: return "active";
	case JIT_STATE_NOT_YET_VALID: return "not-yet-valid";
	case JIT_STATE_OTHER_HOST: return "other-host";
	case JIT_STATE_EXPIRED: return "expired";
	case JIT_STATE_REVOKED: return "revoked";
	}
	return "revoked";
}

static void explain(jit_decision *decision, const jit_access *access,
		    const char *host, int64_t now_ms, const char *verify_message)
{
	char what[400], when[32];
	char id[JIT_GRANT_ID_HEX_LEN + 1] = "";

	describe_access(access, what, sizeof(what));
	if (decision->has_grant)
		jit_grant_id_format(decision->grant_id, id);

	switch (decision->reason) {
	case JIT_REASON_ALLOW:
		snprintf(decision->detail, sizeof(decision->detail),
			 "grant %s allows %s", id, what);
		break;
	case JIT_REASON_NO_GRANT:
		snprintf(decision->detail, sizeof(decision->detail),
			 "%.64s has no grant on %.64s", access->user, host);
		break;
	case JIT_REASON_OUT_OF_SCOPE:
		snprintf(decision->detail, sizeof(decision->detail),
			 "no grant of %.64s covers %s", access->user, what);
		break;
	case JIT_REASON_EXPIRED:
		jit_time_format(decision->not_after, when, sizeof(when));
		if (now_ms < seconds_to_ms(decision->not_after))
			snprintf(decision->detail, sizeof(decision->detail),
				 "grant %s ends at %s, less than a second from now, and a command needs at least a second left",
				 id, when);
		else
			snprintf(decision->detail, sizeof(decision->detail),
				 "grant %s ended at %s", id, when);
		break;
	case JIT_REASON_NOT_YET_VALID:
		jit_time_format(decision->not_before, when, sizeof(when));
		snprintf(decision->detail, sizeof(decision->detail),
			 "grant %s is not valid before %s", id, when);
		break;
	case JIT_REASON_REVOKED:
		snprintf(decision->detail, sizeof(decision->detail),
			 "grant %s was revoked", id);
		break;
	case JIT_REASON_WRONG_HOST:
		snprintf(decision->detail, sizeof(decision->detail),
			 "grant %s is not for host %.64s", id, host);
		break;
	case JIT_REASON_WRONG_USER:
		snprintf(decision->detail, sizeof(decision->detail),
			 "a grant indexed under %.64s belongs to another user",
			 access->user);
		break;
	default:
		snprintf(decision->detail, sizeof(decision->detail),
			 "a stored grant of %.64s is invalid: %.180s",
			 access->user, verify_message);
		break;
	}
}

static void record_candidate(jit_decision *decision, jit_reason reason,
			     const uint8_t id[JIT_GRANT_ID_LEN],
			     const jit_grant *grant)
{
	decision->reason = reason;
	decision->has_grant = true;
	memcpy(decision->grant_id, id, JIT_GRANT_ID_LEN);
	decision->not_before = grant != NULL ? grant->not_before : 0;
	decision->not_after = grant != NULL ? grant->not_after : 0;
	decision->role[0] = '\0';
	if (grant != NULL)
		snprintf(decision->role, sizeof(decision->role), "%s",
			 grant->role);
}

/* A decision in progress over grants seen one at a time. */
typedef struct deciding {
	const jit_config *config;
	const jit_keyring *keys;
	const jit_access *access;
	const char *host;
	int64_t now_ms;
	jit_decision *decision;
	char verify_message[JIT_ERROR_MESSAGE_MAX];
} deciding;

static void decide_begin(deciding *d, const jit_config *config,
			 const jit_keyring *keys, const jit_access *access,
			 int64_t now_ms, jit_decision *decision)
{
	memset(d, 0, sizeof(*d));
	d->config = config;
	d->keys = keys;
	d->access = access;
	d->host = access->host != NULL ? access->host : config->hostname;
	d->now_ms = now_ms;
	d->decision = decision;

	memset(decision, 0, sizeof(*decision));
	decision->reason = JIT_REASON_NO_GRANT;
}

/* Judges one more grant and returns true once a grant allows. */
static bool decide_next(deciding *d, const jit_stored_grant *stored)
{
	jit_grant *grant = NULL;
	jit_error error;
	jit_reason reason;
	jit_err r;

	jit_error_clear(&error);
	r = jit_grant_verify(stored->blob, stored->blob_len, d->keys, &grant,
			     &error);
	if (r != JIT_OK)
		reason = reason_for_verify_error(r);
	else
		reason = judge_grant(d->config, grant, stored->revoked,
				     d->access, d->host, d->now_ms);

	if (!d->decision->has_grant ||
	    closeness(reason) > closeness(d->decision->reason)) {
		record_candidate(d->decision, reason, stored->id, grant);
		if (r != JIT_OK)
			snprintf(d->verify_message, sizeof(d->verify_message),
				 "%s", error.message);
	}
	jit_grant_free(grant);
	return reason == JIT_REASON_ALLOW;
}

static void decide_end(deciding *d)
{
	explain(d->decision, d->access, d->host, d->now_ms, d->verify_message);
}

void jit_decide(const jit_config *config, const jit_keyring *keys,
		const jit_stored_grant *grants, size_t count,
		const jit_access *access, int64_t now_ms,
		jit_decision *decision)
{
	deciding d;

	decide_begin(&d, config, keys, access, now_ms, decision);
	for (size_t i = 0; i < count; i++) {
		if (decide_next(&d, &grants[i]))
			break;
	}
	decide_end(&d);
}

static jit_err decide_visited(jit_stored_grant *grant, bool *stop,
			      void *context, jit_error *error)
{
	(void)error;
	*stop = decide_next(context, grant);
	return JIT_OK;
}

static void deny_early(jit_decision *decision, jit_reason reason,
		       const char *message)
{
	memset(decision, 0, sizeof(*decision));
	decision->reason = reason;
	snprintf(decision->detail, sizeof(decision->detail), "%s", message);
}

static jit_reason reason_for_store_error(jit_err r)
{
	return r == JIT_ERR_NOMEM ? JIT_REASON_INTERNAL_ERROR
				  : JIT_REASON_STORE_ERROR;
}

void jit_check(const jit_config *config, const jit_access *access,
	       int64_t now_ms, jit_decision *decision)
{
	jit_keyring *keys = NULL;
	jit_store *store = NULL;
	jit_error error;
	deciding d;
	jit_err r;

	jit_error_clear(&error);

	if (access->user == NULL || !jit_valid_name(access->user)) {
		deny_early(decision, JIT_REASON_NO_GRANT,
			   "the user name is not a valid user name");
		return;
	}

	r = jit_keyring_load(config->trusted_keys, &keys, &error);
	if (r != JIT_OK) {
		deny_early(decision, r == JIT_ERR_NOMEM ? JIT_REASON_INTERNAL_ERROR
							: JIT_REASON_CONFIG_ERROR,
			   error.message);
		return;
	}

	/* With no trusted key nothing can ever be allowed, so the denial names
	 * the host's misconfiguration rather than each grant's key. */
	if (jit_keyring_count(keys) == 0) {
		jit_error_set(&error, JIT_ERR_CONFIG,
			      "no trusted keys in %.256s: install the issuer's public key there (jitctl init does on the issuing host)",
			      config->trusted_keys);
		deny_early(decision, JIT_REASON_CONFIG_ERROR, error.message);
		jit_keyring_free(keys);
		return;
	}

	/* Grants are judged as they are read, so a check stops reading at the
	 * first grant that allows: the user's other grants are never paged in.
	 * The store is closed again before returning, so nothing that runs
	 * after this call (PAM in sudo, the command itself) sees it open. */
	decide_begin(&d, config, keys, access, now_ms, decision);
	r = jit_store_open(config->store, JIT_STORE_READ, &store, &error);
	if (r == JIT_OK)
		r = jit_store_visit_user(store, access->user,
					 JIT_MAX_GRANTS_PER_USER, decide_visited, &d,
					 &error);
	jit_store_close(store);
	if (r != JIT_OK)
		deny_early(decision, reason_for_store_error(r), error.message);
	else
		decide_end(&d);
	jit_keyring_free(keys);
}

void jit_grants_free(jit_grant **grants, size_t count)
{
	if (grants == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		jit_grant_free(grants[i]);
	free(grants);
}

static bool grant_is_listable(const jit_config *config, const jit_grant *grant,
			      const char *user, bool revoked, int64_t now_ms)
{
	return !revoked && strcmp(grant->user, user) == 0 &&
	       jit_grant_matches_host(grant, config->hostname) &&
	       time_reason(config, grant, now_ms) != JIT_REASON_EXPIRED;
}

jit_err jit_active_grants(const jit_config *config, const char *user,
			  int64_t now_ms, jit_grant ***grants_out,
			  size_t *count_out, jit_error *error)
{
	jit_keyring *keys = NULL;
	jit_store *store = NULL;
	jit_stored_grant *stored = NULL;
	jit_grant **grants = NULL;
	size_t stored_count = 0, count = 0;
	jit_err r;

	*grants_out = NULL;
	*count_out = 0;

	if (!jit_valid_name(user))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid user name '%.64s'", user);

	r = jit_keyring_load(config->trusted_keys, &keys, error);
	if (r != JIT_OK)
		goto out;

	r = jit_store_open(config->store, JIT_STORE_READ, &store, error);
	if (r == JIT_OK)
		r = jit_store_load_user(store, user, JIT_MAX_GRANTS_PER_USER,
					&stored, &stored_count, error);
	jit_store_close(store);
	if (r != JIT_OK)
		goto out;

	grants = calloc(stored_count + 1, sizeof(*grants));
	if (grants == NULL) {
		r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
		goto out;
	}

	for (size_t i = 0; i < stored_count; i++) {
		jit_grant *grant = NULL;

		if (jit_grant_verify(stored[i].blob, stored[i].blob_len, keys,
				     &grant, NULL) != JIT_OK)
			continue;
		if (!grant_is_listable(config, grant, user, stored[i].revoked,
				       now_ms)) {
			jit_grant_free(grant);
			continue;
		}
		grants[count++] = grant;
	}

	*grants_out = grants;
	*count_out = count;
	grants = NULL;
	r = JIT_OK;
out:
	jit_grants_free(grants, count);
	jit_stored_grants_free(stored, stored_count);
	jit_keyring_free(keys);
	return r;
}
