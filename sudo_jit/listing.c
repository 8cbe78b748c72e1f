/* "sudo -l": the caller's active grants, one block per grant. */
#include "plugin.h"

#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES 2048

static void print_line(const struct plugin *p, const char *label,
		       const char *value)
{
	char shown[LINE_MAX_BYTES];

	text_escape(value, shown, sizeof(shown));
	p->print(SUDO_CONV_INFO_MSG, "    %s: %s\n", label, shown);
}

static void print_list(const struct plugin *p, const char *label,
		       const jit_strlist *list, const char *empty)
{
	if (list->count == 0) {
		print_line(p, label, empty);
		return;
	}
	for (size_t i = 0; i < list->count; i++)
		print_line(p, label, list->items[i]);
}

/* A command with an exact argument list shows it. An empty exact list is
 * shown as "" (the command only without arguments), as in sudoers. */
static void print_command(const struct plugin *p, const jit_command *command)
{
	char line[LINE_MAX_BYTES];
	size_t used;

	used = (size_t)snprintf(line, sizeof(line), "%s", command->path);
	if (command->args_given && command->args.count == 0 &&
	    used < sizeof(line))
		used += (size_t)snprintf(line + used, sizeof(line) - used, " \"\"");
	for (size_t i = 0; command->args_given && i < command->args.count &&
	     used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, " %s",
					 command->args.items[i]);
	print_line(p, "command", line);
}

static void print_times(const struct plugin *p, const jit_grant *grant,
			int64_t now)
{
	char left[32], starts[32], at[32], start_at[32];

	jit_duration_format(grant->not_after - now, left, sizeof(left));
	jit_time_format(grant->not_after, at, sizeof(at));
	if (grant->not_before > now) {
		jit_duration_format(grant->not_before - now, starts, sizeof(starts));
		jit_time_format(grant->not_before, start_at, sizeof(start_at));
		p->print(SUDO_CONV_INFO_MSG, "    starts in %s at %s\n", starts,
			 start_at);
	}
	p->print(SUDO_CONV_INFO_MSG, "    expires in %s at %s\n", left, at);
}

/* A break-glass grant is marked until someone reviews it; when the
 * review cannot be read it is shown as unreviewed. */
static const char *break_glass_mark(const jit_config *config,
				    const jit_grant *grant)
{
	bool reviewed = false;

	if (!grant->break_glass)
		return "";
	if (jit_grant_reviewed_stored(config, grant->id, &reviewed, NULL) != JIT_OK)
		reviewed = false;
	return reviewed ? ", break-glass, reviewed" : ", break-glass, unreviewed";
}

static void print_grant(const struct plugin *p, const jit_config *config,
			const jit_grant *grant, bool verbose, int64_t now)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1], role[256];

	jit_grant_id_format(grant->id, id);
	text_escape(grant->role, role, sizeof(role));
	p->print(SUDO_CONV_INFO_MSG, "grant %s, role %s%s\n", id,
		 role[0] != '\0' ? role : "(none)",
		 break_glass_mark(config, grant));

	print_list(p, "runas", &grant->runas_users, "root");
	if (grant->runas_groups.count > 0)
		print_list(p, "runas group", &grant->runas_groups, "");
	if (grant->command_count == 0)
		print_line(p, "command", "none");
	for (size_t i = 0; i < grant->command_count; i++)
		print_command(p, &grant->commands[i]);
	print_list(p, "service", &grant->services, "none");

	if (verbose) {
		print_list(p, "host", &grant->hosts, "none");
		print_line(p, "reason", grant->reason);
		print_line(p, "requested by", grant->requester);
		print_list(p, "approved by", &grant->approvers, "none");
	}
	print_times(p, grant, now);
}

int listing_print(const struct plugin *p, const jit_config *config,
		  const char *user, bool verbose, int64_t now_ms)
{
	const char *host = config->hostname != NULL ? config->hostname :
			   p->user.host;
	jit_grant **grants = NULL;
	size_t count = 0;
	jit_error error;

	jit_error_clear(&error);
	if (jit_active_grants(config, user, now_ms, &grants, &count,
			      &error) != JIT_OK) {
		plugin_error(p, "cannot list the grants of %s: %s", user,
			     error.message);
		return 0;
	}

	if (count == 0) {
		plugin_info(p, "%s has no active grants on %s.", user, host);
		jit_grants_free(grants, count);
		return 1;
	}

	plugin_info(p, "%s has %zu active grant%s on %s:", user, count,
		    count == 1 ? "" : "s", host);
	for (size_t i = 0; i < count; i++)
		print_grant(p, config, grants[i], verbose, now_ms / 1000);

	jit_grants_free(grants, count);
	return 1;
}
