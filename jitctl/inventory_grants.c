/* jit's own grants that come close to standing privilege: grants that last
 * nearly as long as the configured maximum, and break-glass grants.
 *
 * NOTE: no review of break-glass grants is recorded anywhere yet, so every
 * stored break-glass grant counts as unreviewed. */
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

/* A grant of at least 9/10 of its cap counts as "near the maximum". */
#define LONG_NUMERATOR 9
#define LONG_DENOMINATOR 10

static void report_store_error(inventory *inv, const jit_error *error,
			       const char *title)
{
	inv_add(inv, INV_HIGH, INV_HOST, "jit", error->message,
		"fix the store or key error, then run jitctl inventory again", "%s", title);
}

static int64_t grant_cap(const jit_config *config, const jit_grant *grant)
{
	const jit_role *role = jit_config_find_role(config, grant->role);

	if (role != NULL && role->max_duration > 0)
		return role->max_duration;
	return config->max_duration;
}

static void grant_evidence(const grant_view *view, int64_t cap, char *out,
			   size_t out_len)
{
	const jit_grant *grant = view->grant;
	char start[32], end[32], length[32], max[32], scope[160];

	output_time(grant->not_before, start, sizeof(start));
	output_time(grant->not_after, end, sizeof(end));
	jit_duration_format(grant->not_after - grant->not_before, length, sizeof(length));
	jit_duration_format(cap, max, sizeof(max));
	output_scope(grant, scope, sizeof(scope));
	snprintf(out, out_len,
		 "jitctl show %s: %s, role %s, %s from %s to %s (cap %s), scope %s, reason \"%s\"",
		 view->id, grant_state_name(view->state), grant->role, length, start,
		 end, max, scope, grant->reason);
}

static void check_grant(inventory *inv, const grant_view *view)
{
	const jit_config *config = inv->ctl->config;
	const jit_grant *grant = view->grant;
	bool current = view->state == GRANT_ACTIVE ||
		       view->state == GRANT_NOT_YET_VALID;
	int64_t cap, length;
	char evidence[1024];

	/* Invalid grants allow nothing; other-host grants nothing here. */
	if (!view->verified || view->state == GRANT_OTHER_HOST)
		return;

	cap = grant_cap(config, grant);
	length = grant->not_after - grant->not_before;
	grant_evidence(view, cap, evidence, sizeof(evidence));

	if (grant->break_glass)
		inv_add(inv, current ? INV_MEDIUM : INV_LOW, grant->user, "jit", evidence,
			"review why break-glass was needed and revoke the grant once the emergency is over",
			"break-glass grant %s not reviewed", view->id);

	if (current && cap > 0 && length * LONG_DENOMINATOR >= cap * LONG_NUMERATOR)
		inv_add(inv, INV_LOW, grant->user, "jit", evidence,
			"issue grants for the length of the task, and lower the role's max_duration if long grants are not needed",
			"grant %s lasts nearly the maximum duration", view->id);
}

static void check_grants(inventory *inv, const jit_stored_grant *stored,
			 size_t count, const jit_keyring *keys)
{
	for (size_t i = 0; i < count; i++) {
		grant_view view;

		if (grant_view_load(&view, stored[i].id, stored[i].blob,
				    stored[i].blob_len, stored[i].revoked, keys,
				    inv->ctl->config, inv->ctl->now_ms) != JIT_OK) {
			inv->out_of_memory = true;
			return;
		}
		check_grant(inv, &view);
		grant_view_clear(&view);
	}
}

void inv_scan_grants(inventory *inv)
{
	const jit_config *config = inv->ctl->config;
	jit_stored_grant *stored = NULL;
	jit_keyring *keys = NULL;
	jit_store *store = NULL;
	size_t count = 0;
	jit_error error;

	/* Without a configuration there are no grants: cmd_inventory has
	 * reported why. */
	if (config == NULL)
		return;

	jit_error_clear(&error);
	if (jit_store_open(config->store, JIT_STORE_READ, &store, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND)
			inv_add(inv, INV_INFO, INV_HOST, "jit", error.message,
				"run jitctl init to create the store", "no jit store yet");
		else
			report_store_error(inv, &error, "cannot read jit's grants");
		return;
	}
	if (jit_store_load_all(store, &stored, &count, &error) != JIT_OK) {
		report_store_error(inv, &error, "cannot read jit's grants");
		goto out;
	}
	if (jit_keyring_load(config->trusted_keys, &keys, &error) != JIT_OK) {
		report_store_error(inv, &error, "cannot verify jit's grants");
		goto out;
	}
	check_grants(inv, stored, count, keys);
out:
	jit_keyring_free(keys);
	jit_stored_grants_free(stored, count);
	jit_store_close(store);
}
