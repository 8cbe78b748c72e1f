/* pam-session: opens a PAM session through a service's real stack, for the
 * end-to-end session tests.
 *
 *   pam-session [--no-account] [--fork-silent] [--hold SECONDS] [--no-close]
 *               SERVICE USER
 *
 * Runs pam_start(SERVICE, USER), pam_acct_mgmt (unless --no-account, as a
 * program that skips the account phase does), pam_open_session and, unless
 * --no-close, pam_close_session and pam_end. Prints one line per step:
 *
 *   account CODE         open CODE         close CODE
 *   env NAME=VALUE       for JIT_GRANT_ID and JIT_EXPIRES when set
 *   leader PID           this process, the session's leader
 *   holding              before sleeping for --hold SECONDS
 *   child done           after --fork-silent's child ended its copy
 *
 * --fork-silent forks after the open; the child closes the session and
 * ends its handle with PAM_DATA_SILENT, as a forked process cleaning up its
 * copy of the parent's handle does, then exits. Exit status: 0 when the
 * steps ran, 2 on usage or setup errors. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

typedef struct options {
	bool account;
	bool fork_silent;
	bool close;
	long hold;
	const char *service;
	const char *user;
} options;

static const struct {
	int code;
	const char *name;
} code_names[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
	{ PAM_SESSION_ERR, "PAM_SESSION_ERR" },
	{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
	{ PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_IGNORE, "PAM_IGNORE" },
	{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
};

static void print_step(const char *step, int code)
{
	for (size_t i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++) {
		if (code_names[i].code == code) {
			printf("%s %s\n", step, code_names[i].name);
			return;
		}
	}
	printf("%s PAM_CODE_%d\n", step, code);
}

/* Prints messages to stderr and refuses prompts. */
static int conversation(int count, const struct pam_message **messages,
			struct pam_response **responses, void *data)
{
	(void)data;
	*responses = NULL;
	for (int i = 0; i < count; i++) {
		if (messages[i]->msg_style != PAM_ERROR_MSG &&
		    messages[i]->msg_style != PAM_TEXT_INFO)
			return PAM_CONV_ERR;
		fprintf(stderr, "conv: %s\n", messages[i]->msg);
	}
	return PAM_SUCCESS;
}

static bool parse_options(int argc, char **argv, options *opts)
{
	int i;

	memset(opts, 0, sizeof(*opts));
	opts->account = true;
	opts->close = true;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		char *end;

		if (strcmp(argv[i], "--no-account") == 0) {
			opts->account = false;
		} else if (strcmp(argv[i], "--fork-silent") == 0) {
			opts->fork_silent = true;
		} else if (strcmp(argv[i], "--no-close") == 0) {
			opts->close = false;
		} else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
			errno = 0;
			opts->hold = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || opts->hold < 0)
				return false;
		} else {
			return false;
		}
	}
	if (argc - i != 2)
		return false;
	opts->service = argv[i];
	opts->user = argv[i + 1];
	return true;
}

static void print_env(pam_handle_t *pamh, const char *name)
{
	const char *value = pam_getenv(pamh, name);

	if (value != NULL)
		printf("env %s=%s\n", name, value);
}

/* The child of --fork-silent: what a forked process does with its copy of
 * the handle before it exits or execs. */
static void fork_silent(pam_handle_t *pamh)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("pam-session: fork");
		return;
	}
	if (pid == 0) {
		(void)pam_close_session(pamh, PAM_DATA_SILENT);
		(void)pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	printf("child done\n");
}

static void hold(long seconds)
{
	struct timespec left = { .tv_sec = seconds };

	printf("holding\n");
	fflush(stdout);
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	const struct pam_conv conv = { conversation, NULL };
	pam_handle_t *pamh = NULL;
	options opts;
	int r;

	if (!parse_options(argc, argv, &opts)) {
		fprintf(stderr, "usage: pam-session [--no-account] [--fork-silent] [--hold SECONDS] [--no-close] SERVICE USER\n");
		return 2;
	}

	r = pam_start(opts.service, opts.user, &conv, &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam-session: pam_start failed: %s\n",
			pam_strerror(pamh, r));
		return 2;
	}

	if (opts.account)
		print_step("account", pam_acct_mgmt(pamh, 0));
	r = pam_open_session(pamh, 0);
	print_step("open", r);
	printf("leader %ld\n", (long)getpid());
	print_env(pamh, "JIT_GRANT_ID");
	print_env(pamh, "JIT_EXPIRES");

	if (r == PAM_SUCCESS && opts.fork_silent)
		fork_silent(pamh);
	if (opts.hold > 0)
		hold(opts.hold);
	if (r == PAM_SUCCESS && opts.close)
		print_step("close", pam_close_session(pamh, 0));

	fflush(stdout);
	pam_end(pamh, r);
	return 0;
}
