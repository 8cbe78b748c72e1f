/* jitctl: global options and the command table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

static const ctl_command commands[] = {
	{
		.name = "init",
		.synopsis = "",
		.summary = "create the store, the issuer key and its trusted public key",
		.notes = "Creates whatever is missing of the store folder, the issuer key and\n"
			 "the issuer's public key in the trusted keys folder, at the places the\n"
			 "configuration names, then prints the issuer key id. Running it again\n"
			 "changes nothing.\n",
		.options = "",
		.writes = true,
		.run = cmd_init,
	},
	{
		.name = "grant",
		.synopsis = "USER [--for DURATION] --reason TEXT [OPTION]...",
		.summary = "issue a grant directly and print its id",
		.notes = "Without --role, --for and at least one --command or --service are\n"
			 "required. With --role, explicit options must stay inside the role.\n"
			 "Root issues any grant; an approver of a role, run without root, issues\n"
			 "grants of that role to others through the broker.\n",
		.options = "  --for DURATION     lifetime, such as 90s, 15m, 2h or 1h30m; at most the\n"
			   "                     role's and the global max_duration (default: the\n"
			   "                     role's default_duration)\n"
			   "  --reason TEXT      justification recorded in the grant\n"
			   "  --role NAME        take scope defaults and a duration cap from\n"
			   "                     [role NAME]; without it the role is \"direct\"\n"
			   "  --runas USER,...   users commands may run as (default: the role's,\n"
			   "                     else root)\n"
			   "  --command CMD      ALL, /abs/path (any arguments) or \"/abs/path ARG...\"\n"
			   "                     (exactly those arguments; a single \"\" means none);\n"
			   "                     repeatable\n"
			   "  --service NAME     PAM service the grant opens, such as sshd; repeatable\n"
			   "  --host PATTERN     host name or fnmatch pattern; repeatable (default:\n"
			   "                     the role's hosts, else this host)\n"
			   "  --start TIME       start later: ISO 8601 time or +DURATION (default: now)\n",
		.writes = false,
		.run = cmd_grant,
	},
	{
		.name = "request",
		.synopsis = "--role NAME [--for DURATION] --reason TEXT [--start TIME] [--json]",
		.summary = "ask for a role's grant and print the request id",
		.notes = "The request waits until enough approvers of the role approve it (then\n"
			 "the grant is issued), one denies it, you cancel it, or the role's\n"
			 "request_ttl passes. The grant's time starts when it is issued.\n",
		.options = "  --role NAME      the role asked for; you must be among its requesters\n"
			   "  --for DURATION   lifetime, such as 30m or 2h (default: the role's\n"
			   "                   default_duration); at most its max_duration\n"
			   "  --reason TEXT    why, such as a ticket; it must match the role's\n"
			   "                   reason_pattern\n"
			   "  --start TIME     start no earlier than TIME: ISO 8601 or +DURATION\n"
			   "  --json           print the request as a JSON object\n",
		.writes = false,
		.run = cmd_request,
	},
	{
		.name = "requests",
		.synopsis = "[--all] [--json]",
		.summary = "list pending requests you made or may decide",
		.notes = "",
		.options = "  --all    also approved, denied, cancelled and expired requests (kept\n"
			   "           for 30 days)\n"
			   "  --json   print a JSON array\n",
		.writes = false,
		.run = cmd_requests,
	},
	{
		.name = "approve",
		.synopsis = "REQUEST_ID [--reason TEXT] [--json]",
		.summary = "approve a request; the last approval needed issues the grant",
		.notes = "Approvers of the request's role may approve, never the requester,\n"
			 "and each approver counts once.\n",
		.options = "  --reason TEXT   a note kept with the approval\n"
			   "  --json          print the request as a JSON object\n",
		.writes = false,
		.run = cmd_approve,
	},
	{
		.name = "deny",
		.synopsis = "REQUEST_ID --reason TEXT [--json]",
		.summary = "deny a pending request",
		.notes = "",
		.options = "  --reason TEXT   why, shown to the requester\n"
			   "  --json          print the request as a JSON object\n",
		.writes = false,
		.run = cmd_deny,
	},
	{
		.name = "cancel",
		.synopsis = "REQUEST_ID [--reason TEXT] [--json]",
		.summary = "cancel your own pending request",
		.notes = "",
		.options = "  --reason TEXT   a note kept with the request\n"
			   "  --json          print the request as a JSON object\n",
		.writes = false,
		.run = cmd_cancel,
	},
	{
		.name = "break-glass",
		.synopsis = "--for DURATION --reason TEXT [--role NAME] [--json]",
		.summary = "get an emergency grant at once, without approval",
		.notes = "For members of break_glass_group only. Without --role the grant allows\n"
			 "every command as root on this host. It is flagged as break-glass,\n"
			 "raises an alert in the journal, and shows as unreviewed until someone\n"
			 "runs jitctl review.\n",
		.options = "  --for DURATION   lifetime, at most break_glass_max_duration (default 1h)\n"
			   "  --reason TEXT    why, required\n"
			   "  --role NAME      limit the grant to a role's scope\n"
			   "  --json           print the grant as a JSON object\n",
		.writes = false,
		.run = cmd_break_glass,
	},
	{
		.name = "review",
		.synopsis = "GRANT_ID --note TEXT [--json]",
		.summary = "record the review of a break-glass grant",
		.notes = "Root and approvers of any role may review, never the grant's user.\n",
		.options = "  --note TEXT   what the review found\n"
			   "  --json        print the review as a JSON object\n",
		.writes = false,
		.run = cmd_review,
	},
	{
		.name = "list",
		.synopsis = "[--user USER] [--all] [--json]",
		.summary = "list active grants",
		.notes = "",
		.options = "  --user USER   only grants for USER\n"
			   "  --all         also expired, revoked, not yet valid, other-host and\n"
			   "                invalid grants\n"
			   "  --json        print a JSON array\n",
		.writes = false,
		.run = cmd_list,
	},
	{
		.name = "show",
		.synopsis = "ID [--json]",
		.summary = "show one grant in full",
		.notes = "",
		.options = "  --json   print a JSON object\n",
		.writes = false,
		.run = cmd_show,
	},
	{
		.name = "revoke",
		.synopsis = "ID --reason TEXT",
		.summary = "revoke a grant now and end its sessions",
		.notes = "Records the revocation, then ends every session the grant opened\n"
			 "through pam_jit: logind is asked first when it runs, then the\n"
			 "session's processes get SIGHUP and, 1 second later, SIGKILL.\n",
		.options = "  --reason TEXT   why the grant is revoked, recorded with the revocation\n",
		.writes = true,
		.run = cmd_revoke,
	},
	{
		.name = "reap",
		.synopsis = "[--batch N]",
		.summary = "end sessions of expired grants, remove expired grants",
		.notes = "First ends every recorded session whose grant has expired or was\n"
			 "revoked, then removes expired grants. jit-reap.timer runs it.\n",
		.options = "  --batch N   grants removed per store transaction (default 1000)\n",
		.writes = true,
		.run = cmd_reap,
	},
	{
		.name = "audit",
		.synopsis = "ID | --since TIME [--json] | --verify | --checkpoint",
		.summary = "show the evidence of a grant's life, export or verify it",
		.notes = "The store keeps a hash-chained record of every request, grant,\n"
			 "revocation, removal and use. With a grant or request ID, prints its\n"
			 "story in time order. --since prints every record from TIME on.\n"
			 "--verify checks every link and every signed checkpoint and exits 1\n"
			 "naming the first broken record. jitctl reap signs a checkpoint each run.\n",
		.options = "  --since TIME   a duration back from now (30d, 12h) or an ISO 8601 time\n"
			   "  --json         with --since: one JSON object per line\n"
			   "  --verify       check the chain and its checkpoints\n"
			   "  --checkpoint   sign the chain's head now with the issuer key (root)\n",
		.writes = false,
		.run = cmd_audit,
	},
	{
		.name = "report",
		.synopsis = "[--since TIME] [--json | --csv]",
		.summary = "access review: grants, approvers and uses per user and role",
		.notes = "Reads the evidence chain. For each user and role: the grants issued\n"
			 "since TIME, who approved them, how often each was used (allowed sudo\n"
			 "commands and logins), grants never used, break-glass grants still\n"
			 "awaiting review, and the longest and total privileged time (from the\n"
			 "start of a grant to its end or revocation, or to now).\n",
		.options = "  --since TIME   a duration back from now or an ISO 8601 time\n"
			   "                 (default 30d)\n"
			   "  --json         print a JSON array, one object per user and role\n"
			   "  --csv          print CSV, one row per grant\n",
		.writes = false,
		.run = cmd_report,
	},
	{
		.name = "watch",
		.synopsis = "[--reap-interval DURATION]",
		.summary = "end sessions when their grant expires; run as a service",
		.notes = "Runs until SIGTERM. At least once a second, and at the exact end of\n"
			 "each grant that has a recorded session, it ends the sessions whose grant\n"
			 "has expired or was revoked and warns, once, the sessions whose grant\n"
			 "ends within 5 minutes. It also removes expired grants as jitctl reap\n"
			 "does. jit-watch.service runs it.\n",
		.options = "  --reap-interval DURATION   how often to remove expired grants, such\n"
			   "                             as 30s or 5m; 0 never (default 1m)\n",
		.writes = true,
		.run = cmd_watch,
	},
	{
		.name = "check",
		.synopsis = "USER (--service NAME | [--runas USER] [--group GROUP] [--shell] [--] CMD [ARG]...) [--json]",
		.summary = "show the decision sudo or PAM would make, and why",
		.notes = "CMD is resolved through the configured secure_path. Options end at CMD,\n"
			 "as with sudo. Exit status 0 means allow, 1 means deny.\n",
		.options = "  --service NAME   decide a login through PAM service NAME\n"
			   "  --runas USER     run the command as USER (default root)\n"
			   "  --group GROUP    run the command with group GROUP\n"
			   "  --shell          a shell, as sudo -s or sudo -i asks for\n"
			   "  --json           print a JSON object\n",
		.writes = false,
		.run = cmd_check,
	},
	{
		.name = "export",
		.synopsis = "ID",
		.summary = "print a stored grant as a text token",
		.notes = "",
		.options = "",
		.writes = false,
		.run = cmd_export,
	},
	{
		.name = "import",
		.synopsis = "[FILE]",
		.summary = "verify a text token and store its grant",
		.notes = "Reads one token line from FILE, or from standard input when FILE is\n"
			 "absent or \"-\". The grant must verify against the trusted keys, name\n"
			 "this host and not be expired.\n",
		.options = "",
		.writes = true,
		.run = cmd_import,
	},
	{
		.name = "verify",
		.synopsis = "[FILE]",
		.summary = "check a text token without storing it",
		.notes = "Reads one token line from FILE, or from standard input when FILE is\n"
			 "absent or \"-\", and prints its fields and \"valid\" or why it is\n"
			 "invalid. Exit status 0 means valid. The store is not read.\n",
		.options = "",
		.writes = false,
		.run = cmd_verify,
	},
	{
		.name = "inventory",
		.synopsis = "[--json] [--sshd-config PATH] [--group NAME]...",
		.summary = "list standing privilege on this host that grants should replace",
		.notes = "Reads accounts, groups, sudoers (through cvtsudoers), sshd's settings\n"
			 "(sshd -T) and authorized_keys, polkit rules, setuid and file-capability\n"
			 "binaries outside the distribution's packages, and jit's own grants, and\n"
			 "rates each finding high, medium, low or info. It changes nothing. Run it\n"
			 "as root: a source it cannot read is a high finding. Exit status 0 means\n"
			 "nothing of high severity, 1 at least one high finding.\n",
		.options = "  --json               print a JSON object\n"
			   "  --sshd-config PATH   sshd configuration for sshd -T (default\n"
			   "                       /etc/ssh/sshd_config)\n"
			   "  --group NAME         also treat group NAME as root-equivalent;\n"
			   "                       repeatable\n",
		.writes = false,
		.run = cmd_inventory,
	},
	{
		.name = "broker",
		.synopsis = "",
		.summary = "serve one request workflow connection; run by jit-broker@.service",
		.notes = "Reads one message from standard input, which must be a Unix socket\n"
			 "connection, takes the caller from the socket's peer credentials,\n"
			 "answers on standard output and exits. jit-broker.socket starts one\n"
			 "broker per connection. The protocol is in docs/broker-protocol.md.\n",
		.options = "",
		.writes = true,
		.run = cmd_broker,
	},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: jitctl [--config PATH] COMMAND [ARG]...\n"
		"\n"
		"Manage just-in-time privilege grants on this host.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  --config PATH   configuration file (default %s); also accepted\n"
		"                  after the command\n"
		"  -h, --help      show this help\n"
		"  --version       show the version\n"
		"\n"
		"Run 'jitctl COMMAND --help' or 'jitctl help COMMAND' for a\n"
		"command's options.\n"
		"Exit status: 0 success or allow, 1 failure or deny, 2 usage error.\n",
		JIT_DEFAULT_CONFIG);
}

static const ctl_command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Parses the options before the command. Returns true with *index at the
 * command name, or false with *status set when the run is already over
 * (help, version or a usage error). */
static bool parse_global_options(jitctl *ctl, int argc, char **argv,
				 int *index, int *status)
{
	*status = CTL_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_usage(stdout);
			return false;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("jitctl %s\n", JITCTL_VERSION);
			return false;
		}
		if (strncmp(arg, "--config=", 9) == 0) {
			ctl->config_path = arg + 9;
			continue;
		}
		if (strcmp(arg, "--config") == 0) {
			if (i + 1 >= argc) {
				*status = ctl_usage_error(ctl, "option --config needs a PATH");
				return false;
			}
			ctl->config_path = argv[++i];
			continue;
		}
		if (arg[0] == '-') {
			*status = ctl_usage_error(ctl, "unknown option '%s'", arg);
			return false;
		}

		*index = i;
		return true;
	}

	*status = ctl_usage_error(ctl, "missing COMMAND");
	return false;
}

int main(int argc, char **argv)
{
	jitctl ctl = {
		.config_path = JIT_DEFAULT_CONFIG,
	};
	int index = 0, r;

	if (!parse_global_options(&ctl, argc, argv, &index, &r))
		return r;

	/* "jitctl help [COMMAND]" is "jitctl [COMMAND] --help". */
	if (strcmp(argv[index], "help") == 0) {
		if (index + 1 >= argc) {
			print_usage(stdout);
			return CTL_EXIT_OK;
		}
		ctl.command = find_command(argv[index + 1]);
		if (ctl.command == NULL)
			return ctl_usage_error(&ctl, "unknown command '%s'",
					       argv[index + 1]);
		ctl_print_help(&ctl);
		return CTL_EXIT_OK;
	}

	ctl.command = find_command(argv[index]);
	if (ctl.command == NULL)
		return ctl_usage_error(&ctl, "unknown command '%s'", argv[index]);

	r = ctl.command->run(&ctl, argc - index, argv + index);
	jit_config_free(ctl.config);

	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error(&ctl, "writing to standard output failed");
		if (r == CTL_EXIT_OK)
			r = CTL_EXIT_FAIL;
	}
	return r;
}
