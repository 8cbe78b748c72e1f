/* pam-call: runs PAM account checks with the real libpam, for the
 * end-to-end tests.
 *
 *   pam-call [--rhost H] [--tty T] [--silent] [--stack] [--repeat N]
 *            [--fd-check] [--lookup-user] [--open-session [--close-session]]
 *            SERVICE USER MODULE_SO [MODULE_ARGS...]
 *
 * Each transaction runs pam_start(SERVICE, USER) .. pam_end. By default it
 * dlopens MODULE_SO and calls its pam_sm_acct_mgmt directly with
 * MODULE_ARGS, so the module's exact code is seen. With --stack it runs
 * pam_acct_mgmt through SERVICE's real stack instead (the code sshd gets), and
 * MODULE_SO is not loaded.
 *
 * --lookup-user looks USER up in the password database first, as sshd and
 * login do before they run PAM, so that what the lookup loads (NSS modules)
 * is not counted against the PAM modules when the process is measured.
 *
 * Output: the account code's name on the first line of stdout ("PAM_SUCCESS");
 * with --open-session, the session code on a second line and, with
 * --close-session, the close code on a third. Conversation messages go to
 * stderr prefixed "conv: " (from the first transaction only). With
 * --fd-check, "fds before=X after=Y" compares the descriptors open after
 * the first and after the last transaction.
 *
 * Exit status: 0 when the codes were printed, 1 when descriptors leaked or
 * a later transaction returned a different code, 2 on usage or setup
 * errors. */

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

typedef int (*pam_sm_fn)(pam_handle_t *pamh, int flags, int argc,
			 const char **argv);

typedef struct options {
	const char *rhost;
	const char *tty;
	bool silent;
	bool stack;
	long repeat;
	bool fd_check;
	bool lookup_user;
	bool open_session;
	bool close_session;
	const char *service;
	const char *user;
	const char *module_path;
	int module_argc;
	const char **module_argv;
} options;

typedef struct module_entry_points {
	void *handle;
	pam_sm_fn acct_mgmt;
	pam_sm_fn open_session;
	pam_sm_fn close_session;
} module_entry_points;

/* The codes of one transaction, or -1 for a step that did not run. */
typedef struct codes {
	int account;
	int open_session;
	int close_session;
} codes;

/* Set after the first transaction, so --repeat does not flood stderr. */
static bool quiet_conversation;

#define CODE_NAME(code) [code] = #code

static const char *const code_names[] = {
	CODE_NAME(PAM_SUCCESS),
	CODE_NAME(PAM_OPEN_ERR),
	CODE_NAME(PAM_SYMBOL_ERR),
	CODE_NAME(PAM_SERVICE_ERR),
	CODE_NAME(PAM_SYSTEM_ERR),
	CODE_NAME(PAM_BUF_ERR),
	CODE_NAME(PAM_PERM_DENIED),
	CODE_NAME(PAM_AUTH_ERR),
	CODE_NAME(PAM_CRED_INSUFFICIENT),
	CODE_NAME(PAM_AUTHINFO_UNAVAIL),
	CODE_NAME(PAM_USER_UNKNOWN),
	CODE_NAME(PAM_MAXTRIES),
	CODE_NAME(PAM_NEW_AUTHTOK_REQD),
	CODE_NAME(PAM_ACCT_EXPIRED),
	CODE_NAME(PAM_SESSION_ERR),
	CODE_NAME(PAM_CRED_UNAVAIL),
	CODE_NAME(PAM_CRED_EXPIRED),
	CODE_NAME(PAM_CRED_ERR),
	CODE_NAME(PAM_NO_MODULE_DATA),
	CODE_NAME(PAM_CONV_ERR),
	CODE_NAME(PAM_AUTHTOK_ERR),
	CODE_NAME(PAM_AUTHTOK_RECOVERY_ERR),
	CODE_NAME(PAM_AUTHTOK_LOCK_BUSY),
	CODE_NAME(PAM_AUTHTOK_DISABLE_AGING),
	CODE_NAME(PAM_TRY_AGAIN),
	CODE_NAME(PAM_IGNORE),
	CODE_NAME(PAM_ABORT),
	CODE_NAME(PAM_AUTHTOK_EXPIRED),
	CODE_NAME(PAM_MODULE_UNKNOWN),
	CODE_NAME(PAM_BAD_ITEM),
	CODE_NAME(PAM_CONV_AGAIN),
	CODE_NAME(PAM_INCOMPLETE),
};

static void print_code(FILE *out, int code)
{
	size_t count = sizeof(code_names) / sizeof(code_names[0]);

	if (code >= 0 && (size_t)code < count && code_names[code] != NULL)
		fprintf(out, "%s\n", code_names[code]);
	else
		fprintf(out, "PAM_CODE_%d\n", code);
}

/* Prints messages and refuses prompts: an account module has no business
 * asking for input, so a prompt makes the conversation fail. */
static int conversation(int count, const struct pam_message **messages,
			struct pam_response **responses, void *data)
{
	int r = PAM_SUCCESS;

	(void)data;
	*responses = NULL;

	for (int i = 0; i < count; i++) {
		const struct pam_message *m = messages[i];

		switch (m->msg_style) {
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			if (!quiet_conversation)
				fprintf(stderr, "conv: %s\n", m->msg);
			break;
		default:
			fprintf(stderr, "conv: unexpected prompt: %s\n", m->msg);
			r = PAM_CONV_ERR;
			break;
		}
	}
	return r;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pam-call [--rhost H] [--tty T] [--silent] [--stack]\n"
		"                [--repeat N] [--fd-check] [--lookup-user]\n"
		"                [--open-session [--close-session]]\n"
		"                SERVICE USER MODULE_SO [MODULE_ARGS...]\n");
}

static bool parse_repeat(const char *text, long *repeat)
{
	char *end;

	errno = 0;
	*repeat = strtol(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *repeat >= 1 &&
	       *repeat <= 10000000;
}

static bool parse_options(int argc, char **argv, options *opts)
{
	int i;

	memset(opts, 0, sizeof(*opts));
	opts->repeat = 1;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *arg = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(arg, "--rhost") == 0 && has_value)
			opts->rhost = argv[++i];
		else if (strcmp(arg, "--tty") == 0 && has_value)
			opts->tty = argv[++i];
		else if (strcmp(arg, "--repeat") == 0 && has_value) {
			if (!parse_repeat(argv[++i], &opts->repeat)) {
				fprintf(stderr, "pam-call: invalid --repeat %s\n",
					argv[i]);
				return false;
			}
		} else if (strcmp(arg, "--silent") == 0)
			opts->silent = true;
		else if (strcmp(arg, "--stack") == 0)
			opts->stack = true;
		else if (strcmp(arg, "--fd-check") == 0)
			opts->fd_check = true;
		else if (strcmp(arg, "--lookup-user") == 0)
			opts->lookup_user = true;
		else if (strcmp(arg, "--open-session") == 0)
			opts->open_session = true;
		else if (strcmp(arg, "--close-session") == 0)
			opts->close_session = true;
		else {
			fprintf(stderr, "pam-call: unknown option %s\n", arg);
			return false;
		}
	}

	if (argc - i < 3 || (opts->close_session && !opts->open_session))
		return false;

	opts->service = argv[i];
	opts->user = argv[i + 1];
	opts->module_path = argv[i + 2];
	opts->module_argc = argc - i - 3;
	opts->module_argv = (const char **)&argv[i + 3];
	return true;
}

static bool load_module(const char *path, module_entry_points *module)
{
	memset(module, 0, sizeof(*module));

	module->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (module->handle == NULL) {
		fprintf(stderr, "pam-call: failed to load %s: %s\n", path,
			dlerror());
		return false;
	}

	/* POSIX lets a void * from dlsym become a function pointer. */
	*(void **)&module->acct_mgmt = dlsym(module->handle, "pam_sm_acct_mgmt");
	*(void **)&module->open_session = dlsym(module->handle,
						"pam_sm_open_session");
	*(void **)&module->close_session = dlsym(module->handle,
						 "pam_sm_close_session");
	if (module->acct_mgmt == NULL) {
		fprintf(stderr, "pam-call: %s has no pam_sm_acct_mgmt\n", path);
		return false;
	}
	return true;
}

static int count_open_fds(void)
{
	struct dirent *entry;
	DIR *dir;
	int count = 0;

	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return -1;

	while ((entry = readdir(dir)) != NULL)
		if (entry->d_name[0] != '.')
			count++;
	closedir(dir);

	/* The directory's own descriptor was open while counting. */
	return count - 1;
}

static int call_step(const options *opts, pam_handle_t *pamh, int flags,
		     pam_sm_fn direct, int (*stacked)(pam_handle_t *, int))
{
	if (opts->stack)
		return stacked(pamh, flags);
	if (direct == NULL)
		return PAM_SYMBOL_ERR;
	return direct(pamh, flags, opts->module_argc, opts->module_argv);
}

/* Runs one pam_start .. pam_end transaction; false when setup failed. */
static bool run_transaction(const options *opts,
			    const module_entry_points *module, codes *out)
{
	const struct pam_conv conv = { conversation, NULL };
	pam_handle_t *pamh = NULL;
	int flags = opts->silent ? PAM_SILENT : 0;
	int r;

	out->account = out->open_session = out->close_session = -1;

	r = pam_start(opts->service, opts->user, &conv, &pamh);
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam-call: pam_start failed: %s\n",
			pam_strerror(pamh, r));
		return false;
	}
	if ((opts->rhost != NULL &&
	     pam_set_item(pamh, PAM_RHOST, opts->rhost) != PAM_SUCCESS) ||
	    (opts->tty != NULL &&
	     pam_set_item(pamh, PAM_TTY, opts->tty) != PAM_SUCCESS)) {
		fprintf(stderr, "pam-call: failed to set PAM_RHOST or PAM_TTY\n");
		pam_end(pamh, PAM_SYSTEM_ERR);
		return false;
	}

	out->account = call_step(opts, pamh, flags, module->acct_mgmt,
				 pam_acct_mgmt);
	if (opts->open_session)
		out->open_session = call_step(opts, pamh, flags,
					      module->open_session,
					      pam_open_session);
	if (opts->close_session)
		out->close_session = call_step(opts, pamh, flags,
					       module->close_session,
					       pam_close_session);

	pam_end(pamh, out->account);
	return true;
}

static void print_codes(FILE *out, const codes *result)
{
	print_code(out, result->account);
	if (result->open_session != -1)
		print_code(out, result->open_session);
	if (result->close_session != -1)
		print_code(out, result->close_session);
}

static bool same_codes(const codes *a, const codes *b)
{
	return a->account == b->account && a->open_session == b->open_session &&
	       a->close_session == b->close_session;
}

int main(int argc, char **argv)
{
	module_entry_points module = { 0 };
	options opts;
	codes first, result;
	int fds_before, fds_after;
	int status = 0;

	if (!parse_options(argc, argv, &opts)) {
		usage();
		return 2;
	}
	if (!opts.stack && !load_module(opts.module_path, &module))
		return 2;
	if (opts.lookup_user && getpwnam(opts.user) == NULL) {
		fprintf(stderr, "pam-call: user %s not found\n", opts.user);
		return 2;
	}

	if (!run_transaction(&opts, &module, &first))
		return 2;
	print_codes(stdout, &first);
	fflush(stdout);
	quiet_conversation = true;
	fds_before = count_open_fds();

	for (long n = 2; n <= opts.repeat; n++) {
		if (!run_transaction(&opts, &module, &result))
			return 2;
		if (!same_codes(&first, &result)) {
			fprintf(stderr, "pam-call: transaction %ld returned "
				"different codes:\n", n);
			print_codes(stderr, &result);
			status = 1;
			break;
		}
	}

	if (opts.fd_check) {
		fds_after = count_open_fds();
		printf("fds before=%d after=%d\n", fds_before, fds_after);
		if (fds_before < 0 || fds_before != fds_after)
			status = 1;
	}

	/* The module is not dlclose()d: pam_jit.so is linked with -z nodelete,
	 * so unloading would not happen anyway. */
	return status;
}
