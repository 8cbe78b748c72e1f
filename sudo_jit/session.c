/* The sudo command's session, recorded under the grant that allowed it,
 * with the evidence record of the use in the same transaction.
 *
 * init_session runs in the sudo process that stays the command's parent
 * until it exits, so that process is the session's leader. jitctl revoke,
 * reap and watch then end the leader and everything below it when the
 * grant is revoked or ends, which also reaches what a "sudo -s" shell
 * started in the background. close removes the record. */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

jit_err sudo_session_open(struct plugin *p, const jit_config *config,
			  jit_error *error)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_session_record record = { 0 };
	jit_event used = {
		.type = JIT_EVENT_ACCESS_ALLOWED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.user = p->user.name,
		.actor = p->user.name,
		.role = p->use_role[0] != '\0' ? p->use_role : NULL,
		.command = p->use_command_line,
		.runas = p->use_runas,
		.tty = p->user.tty[0] != '\0' ? p->user.tty : NULL,
		.expires = p->grant_ends,
	};
	jit_err r;

	jit_grant_id_format(p->grant_id, id);

	memcpy(record.key.grant_id, p->grant_id, JIT_GRANT_ID_LEN);
	record.opened_at_ms = jit_clock_now_ms();
	record.not_after = p->grant_ends;

	r = jit_session_describe_leader(getpid(), &record, error);
	if (r == JIT_OK) {
		record.user = strdup(p->user.name);
		record.service = strdup("sudo");
		record.rhost = strdup("");
		record.tty = strdup(p->user.tty);
		if (record.user == NULL || record.service == NULL ||
		    record.rhost == NULL || record.tty == NULL)
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	}
	if (r == JIT_OK)
		r = jit_session_record_open(config, &record, &used, error);
	if (r == JIT_OK) {
		p->session_key = record.key;
		p->session_recorded = true;
	}

	jit_session_record_clear(&record);
	return r;
}

void sudo_session_close(struct plugin *p)
{
	jit_config *config = NULL;
	jit_error error;
	jit_err r;

	if (!p->session_recorded)
		return;
	p->session_recorded = false;

	/* A sweep that ended the session has already removed its record. */
	jit_error_clear(&error);
	r = jit_config_load(p->config_path, &config, &error);
	if (r == JIT_OK)
		r = jit_session_record_close(config, &p->session_key, &error);
	if (r != JIT_OK && r != JIT_ERR_NOT_FOUND)
		plugin_error(p, "the session record of %s could not be removed: %s",
			     p->command != NULL ? p->command : "the command",
			     error.message);
	jit_config_free(config);
}
