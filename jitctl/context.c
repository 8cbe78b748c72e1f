/* Helpers every command shares: messages, option handling, privileges,
 * the configuration, the store, the trusted keys and token input. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jitctl.h"

static void print_prefix(const jitctl *ctl)
{
	if (ctl->command != NULL)
		fprintf(stderr, "jitctl %s: ", ctl->command->name);
	else
		fputs("jitctl: ", stderr);
}

void ctl_error(const jitctl *ctl, const char *format, ...)
{
	va_list ap;

	print_prefix(ctl);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ctl_warn(const jitctl *ctl, const char *format, ...)
{
	va_list ap;

	print_prefix(ctl);
	fputs("warning: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Returns what to do about an error of this kind, or "" when the library's
 * message already contains that advice. */
static const char *error_hint(jit_err code)
{
	if (code == JIT_ERR_READERS_FULL)
		return "; try again when fewer processes are reading the store";
	return "";
}

/* Prints a library error and returns the failure exit status. */
int ctl_lib_error(const jitctl *ctl, const jit_error *error)
{
	const char *message = error->message;

	if (message[0] == '\0')
		message = jit_err_name(error->code);
	ctl_error(ctl, "%s%s", message, error_hint(error->code));
	return CTL_EXIT_FAIL;
}

static void print_synopsis(const jitctl *ctl, FILE *out)
{
	if (ctl->command == NULL) {
		fputs("usage: jitctl [--config PATH] COMMAND [ARG]... (jitctl --help lists the commands)\n",
		      out);
		return;
	}

	fprintf(out, "usage: jitctl %s", ctl->command->name);
	if (ctl->command->synopsis[0] != '\0')
		fprintf(out, " %s", ctl->command->synopsis);
	fputc('\n', out);
}

/* Prints what was wrong with the command line and a one-line usage hint,
 * then returns the usage exit status. */
int ctl_usage_error(const jitctl *ctl, const char *format, ...)
{
	va_list ap;

	print_prefix(ctl);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_synopsis(ctl, stderr);
	return CTL_EXIT_USAGE;
}

void ctl_print_help(const jitctl *ctl)
{
	const ctl_command *command = ctl->command;

	print_synopsis(ctl, stdout);
	printf("\n%c%s.\n", toupper((unsigned char)command->summary[0]),
	       command->summary + 1);
	if (command->notes[0] != '\0')
		printf("\n%s", command->notes);

	printf("\nOptions:\n%s", command->options);
	printf("  --config PATH   configuration file (default %s)\n"
	       "  -h, --help      show this help\n",
	       JIT_DEFAULT_CONFIG);
}

/* Handles what every command's getopt_long loop shares: --config, --help
 * and malformed options. Returns CTL_CONTINUE to go on parsing, or the exit
 * status the command should return. */
int ctl_common_option(jitctl *ctl, int opt, char **argv)
{
	switch (opt) {
	case CTL_OPT_CONFIG:
		ctl->config_path = optarg;
		return CTL_CONTINUE;
	case 'h':
		ctl_print_help(ctl);
		return CTL_EXIT_OK;
	case ':':
		return ctl_usage_error(ctl, "option '%s' needs a value",
				       argv[optind - 1]);
	case '?':
		/* optopt is a character only for short options. */
		if (optopt > 0 && optopt < 0x80 && isgraph(optopt))
			return ctl_usage_error(ctl, "unknown option '-%c'", optopt);
		return ctl_usage_error(ctl, "invalid option '%s'",
				       argv[optind - 1]);
	default:
		return ctl_usage_error(ctl, "unexpected option");
	}
}

/* Checks the privilege the command needs and loads the configuration.
 * Root is checked first so that an unprivileged caller learns the real
 * problem rather than a side effect of it. */
int ctl_prepare(jitctl *ctl)
{
	jit_error error;

	if (ctl->command->writes && geteuid() != 0) {
		ctl_error(ctl, "must be run as root");
		return CTL_EXIT_FAIL;
	}

	jit_error_clear(&error);
	if (jit_config_load(ctl->config_path, &ctl->config, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND) {
			ctl_error(ctl, "%s; create it or pass --config PATH",
				  error.message);
			return CTL_EXIT_FAIL;
		}
		return ctl_lib_error(ctl, &error);
	}

	ctl->now_ms = jit_clock_now_ms();
	return CTL_EXIT_OK;
}

/* Looks up the real user running jitctl: it is recorded as requester,
 * approver or actor, so it comes from the kernel and never from the
 * environment. */
int ctl_invoking_user(const jitctl *ctl, char **name)
{
	struct passwd *pw;
	uid_t uid = getuid();

	*name = NULL;

	errno = 0;
	pw = getpwuid(uid);
	if (pw == NULL) {
		ctl_error(ctl, "looking up the invoking user (uid %u) failed: %s",
			  (unsigned)uid,
			  errno != 0 ? strerror(errno) : "no such user");
		return CTL_EXIT_FAIL;
	}

	*name = strdup(pw->pw_name);
	if (*name == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int ctl_parse_grant_id(const jitctl *ctl, const char *text,
		       uint8_t id[JIT_GRANT_ID_LEN])
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_grant_id_parse(text, id, &error) != JIT_OK) {
		ctl_error(ctl, "%s; 'jitctl list' shows grant ids",
			  error.message[0] != '\0' ? error.message : "invalid grant id");
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int ctl_store_open(const jitctl *ctl, jit_store_mode mode, jit_store **store)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_store_open(ctl->config->store, mode, store, &error) == JIT_OK)
		return CTL_EXIT_OK;

	/* The store folder is root-only (0700), so this is the usual cause. */
	if (geteuid() != 0 && error.code != JIT_ERR_PERMISSION) {
		ctl_error(ctl, "%s; the store is readable by root only, run jitctl as root",
			  error.message[0] != '\0' ? error.message
						   : jit_err_name(error.code));
		return CTL_EXIT_FAIL;
	}
	return ctl_lib_error(ctl, &error);
}

int ctl_keyring_load(const jitctl *ctl, jit_keyring **keys)
{
	jit_error error;

	jit_error_clear(&error);
	if (jit_keyring_load(ctl->config->trusted_keys, keys, &error) == JIT_OK)
		return CTL_EXIT_OK;
	return ctl_lib_error(ctl, &error);
}

/* Reads all of fd, failing once more than max bytes arrive. */
static int read_bounded(const jitctl *ctl, int fd, const char *name,
			size_t max, char *buffer, size_t *length)
{
	size_t total = 0;

	for (;;) {
		ssize_t n = read(fd, buffer + total, max + 1 - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_error(ctl, "reading %s failed: %s", name, strerror(errno));
			return CTL_EXIT_FAIL;
		}
		if (n == 0)
			break;

		total += (size_t)n;
		if (total > max) {
			ctl_error(ctl, "%s is larger than %zu bytes, the maximum for a token",
				  name, max);
			return CTL_EXIT_FAIL;
		}
	}

	*length = total;
	return CTL_EXIT_OK;
}

/* Reads one token line from file ("-" or NULL: standard input). Only the
 * final line ending is removed: anything else is left for the strict
 * decoder to reject, except NUL, which would silently cut the text. */
int ctl_read_token(const jitctl *ctl, const char *file, char **text)
{
	const char *name = "standard input";
	char *buffer = NULL;
	size_t length = 0;
	int fd = STDIN_FILENO, r = CTL_EXIT_FAIL;

	*text = NULL;

	if (file != NULL && strcmp(file, "-") != 0) {
		name = file;
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			ctl_error(ctl, "opening %s failed: %s", file, strerror(errno));
			return CTL_EXIT_FAIL;
		}
	}

	buffer = malloc(CTL_TOKEN_INPUT_MAX + 2);
	if (buffer == NULL) {
		ctl_error(ctl, "out of memory");
		goto out;
	}

	r = read_bounded(ctl, fd, name, CTL_TOKEN_INPUT_MAX, buffer, &length);
	if (r != CTL_EXIT_OK)
		goto out;
	r = CTL_EXIT_FAIL;

	if (memchr(buffer, '\0', length) != NULL) {
		ctl_error(ctl, "%s contains a NUL byte, which no token has", name);
		goto out;
	}
	if (length > 0 && buffer[length - 1] == '\n') {
		length--;
		if (length > 0 && buffer[length - 1] == '\r')
			length--;
	}
	if (length == 0) {
		ctl_error(ctl, "%s is empty; expected one line starting with \"%s\"",
			  name, JIT_TOKEN_PREFIX);
		goto out;
	}

	buffer[length] = '\0';
	*text = buffer;
	buffer = NULL;
	r = CTL_EXIT_OK;

out:
	free(buffer);
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}
