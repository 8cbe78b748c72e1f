/* Helpers every inventory source shares: the list of findings, bounded
 * reads of text files, and child processes run without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inventory.h"

/* Maximum length of one field of a finding, "..." excluded. */
#define FIELD_MAX 600
/* Standard error kept from a child process. */
#define CHILD_ERR_MAX (64 * 1024)

/* The environment of every child: no variable of the caller's reaches a
 * program run as root on its behalf. */
static char *const child_environment[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

static const char *const severity_names[] = {
	[INV_INFO] = "info",
	[INV_LOW] = "low",
	[INV_MEDIUM] = "medium",
	[INV_HIGH] = "high",
};

const char *inv_severity_name(inv_severity severity)
{
	return severity_names[severity];
}

inv_severity inv_severity_lower(inv_severity severity)
{
	return severity > INV_LOW ? severity - 1 : severity;
}

/* Copies text with control characters as '?' and at most FIELD_MAX bytes. */
static char *copy_field(const char *text)
{
	size_t length = strnlen(text, FIELD_MAX + 1);
	bool cut = length > FIELD_MAX;
	char *copy;

	if (cut)
		length = FIELD_MAX;
	copy = malloc(length + (cut ? 4 : 1));
	if (copy == NULL)
		return NULL;

	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)text[i];

		copy[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	strcpy(copy + length, cut ? "..." : "");
	return copy;
}

static void finding_clear(inv_finding *finding)
{
	free(finding->account);
	free(finding->source);
	free(finding->title);
	free(finding->evidence);
	free(finding->suggestion);
}

static bool grow_findings(inventory *inv)
{
	size_t capacity = inv->capacity > 0 ? 2 * inv->capacity : 32;
	inv_finding *findings;

	if (inv->count < inv->capacity)
		return true;

	findings = reallocarray(inv->findings, capacity, sizeof(*findings));
	if (findings == NULL)
		return false;
	inv->findings = findings;
	inv->capacity = capacity;
	return true;
}

void inv_add(inventory *inv, inv_severity severity, const char *account,
	     const char *source, const char *evidence, const char *suggestion,
	     const char *title_format, ...)
{
	inv_finding finding = { .severity = severity };
	char title[FIELD_MAX + 1];
	va_list ap;

	va_start(ap, title_format);
	vsnprintf(title, sizeof(title), title_format, ap);
	va_end(ap);

	finding.account = copy_field(account);
	finding.source = copy_field(source);
	finding.title = copy_field(title);
	finding.evidence = copy_field(evidence);
	finding.suggestion = copy_field(suggestion);
	finding.order = inv->count;

	if (finding.account == NULL || finding.source == NULL ||
	    finding.title == NULL || finding.evidence == NULL ||
	    finding.suggestion == NULL || !grow_findings(inv)) {
		finding_clear(&finding);
		inv->out_of_memory = true;
		return;
	}
	inv->findings[inv->count++] = finding;
}

void inv_mark_privileged(inventory *inv, const char *user)
{
	if (jit_strlist_contains(&inv->privileged, user))
		return;
	if (jit_strlist_append(&inv->privileged, user) != JIT_OK)
		inv->out_of_memory = true;
}

void inv_clear(inventory *inv)
{
	for (size_t i = 0; i < inv->count; i++)
		finding_clear(&inv->findings[i]);
	free(inv->findings);

	for (size_t i = 0; i < inv->account_count; i++) {
		free(inv->accounts[i].name);
		free(inv->accounts[i].home);
		free(inv->accounts[i].shell);
	}
	free(inv->accounts);

	for (size_t i = 0; i < inv->group_count; i++) {
		free(inv->groups[i].name);
		jit_strlist_clear(&inv->groups[i].members);
	}
	free(inv->groups);

	jit_strlist_clear(&inv->privileged);
	jit_strlist_clear(&inv->extra_groups);
}

static void report_unreadable(inventory *inv, const char *path,
			      const char *source, const char *why)
{
	char evidence[FIELD_MAX];

	snprintf(evidence, sizeof(evidence), "%s: %s", path, why);
	inv_add(inv, INV_HIGH, INV_HOST, source, evidence,
		"run jitctl inventory as root and make the file readable: an unread source can hide standing privilege",
		"cannot read %s", path);
}

/* Reads all of fd into a new NUL-terminated buffer of at most max bytes. */
static int read_all(int fd, size_t max, char **text, size_t *length)
{
	size_t total = 0;
	char *buffer = malloc(max + 2);

	if (buffer == NULL)
		return ENOMEM;

	for (;;) {
		ssize_t n = read(fd, buffer + total, max + 1 - total);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buffer);
			return e;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > max) {
			free(buffer);
			return EFBIG;
		}
	}

	buffer[total] = '\0';
	*text = buffer;
	*length = total;
	return 0;
}

/* O_NONBLOCK keeps a FIFO planted in place of a file from blocking the
 * scan; anything but a regular file is refused after the open. */
inv_read_result inv_read_file(inventory *inv, const char *path,
			      const char *source, char **text, size_t *length)
{
	struct stat st;
	int fd, e;

	*text = NULL;
	*length = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return INV_READ_MISSING;
		report_unreadable(inv, path, source, strerror(errno));
		return INV_READ_FAILED;
	}

	if (fstat(fd, &st) < 0) {
		e = errno;
	} else if (!S_ISREG(st.st_mode)) {
		close(fd);
		report_unreadable(inv, path, source, "not a regular file");
		return INV_READ_FAILED;
	} else {
		e = read_all(fd, INV_FILE_MAX, text, length);
	}
	close(fd);

	if (e == EFBIG) {
		report_unreadable(inv, path, source, "larger than 4 MiB");
		return INV_READ_FAILED;
	}
	if (e != 0) {
		report_unreadable(inv, path, source, strerror(e));
		return INV_READ_FAILED;
	}
	return INV_READ_OK;
}

char *inv_next_line(char **cursor, char *end)
{
	char *line = *cursor, *newline;

	if (line >= end)
		return NULL;

	newline = memchr(line, '\n', (size_t)(end - line));
	if (newline == NULL) {
		*cursor = end;
	} else {
		*newline = '\0';
		*cursor = newline + 1;
	}
	return line;
}

void inv_child_clear(inv_child *child)
{
	free(child->out);
	free(child->err);
	child->out = child->err = NULL;
	child->out_len = 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is available on fd into buffer. Returns -1 at end of file,
 * otherwise 0; bytes beyond max are read and dropped, and *overflow set. */
static int drain(int fd, char **buffer, size_t *length, size_t *capacity,
		 size_t max, bool *overflow)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return -1;

	if (*length + (size_t)n > max) {
		*overflow = true;
		n = (ssize_t)(max - *length);
	}
	if (*length + (size_t)n + 1 > *capacity) {
		size_t wanted = *capacity * 2 > *length + (size_t)n + 1 ?
				*capacity * 2 : *length + (size_t)n + 1;
		char *grown = realloc(*buffer, wanted);

		if (grown == NULL)
			return -1;
		*buffer = grown;
		*capacity = wanted;
	}
	memcpy(*buffer + *length, chunk, (size_t)n);
	*length += (size_t)n;
	(*buffer)[*length] = '\0';
	return 0;
}

typedef struct child_pipes {
	int out;
	int err;
	size_t out_capacity;
	size_t err_capacity;
	size_t err_len;
} child_pipes;

/* Collects both outputs until the child closes them, the deadline passes
 * or stdout grows past max_out. Returns 0, ETIMEDOUT, EFBIG or the errno
 * of a failed poll. */
static int collect_output(child_pipes *pipes, inv_child *child,
			  size_t max_out, int64_t deadline)
{
	bool overflow = false, err_overflow = false;

	while (pipes->out >= 0 || pipes->err >= 0) {
		struct pollfd fds[2] = {
			{ .fd = pipes->out, .events = POLLIN },
			{ .fd = pipes->err, .events = POLLIN },
		};
		int64_t left = deadline - monotonic_ms();

		if (left <= 0)
			return ETIMEDOUT;
		if (poll(fds, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}

		if (fds[0].revents != 0 &&
		    drain(pipes->out, &child->out, &child->out_len,
			  &pipes->out_capacity, max_out, &overflow) < 0) {
			close(pipes->out);
			pipes->out = -1;
		}
		if (overflow)
			return EFBIG;
		if (fds[1].revents != 0 &&
		    drain(pipes->err, &child->err, &pipes->err_len,
			  &pipes->err_capacity, CHILD_ERR_MAX, &err_overflow) < 0) {
			close(pipes->err);
			pipes->err = -1;
		}
	}
	return 0;
}

static pid_t spawn_child(const char *const argv[], int out_fd, int err_fd,
			 int *error)
{
	posix_spawn_file_actions_t actions;
	pid_t pid = -1;
	int null_fd;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		*error = errno;
		return -1;
	}

	/* dup2 in the child clears close-on-exec on 0, 1 and 2 only; every
	 * other descriptor of jitctl is O_CLOEXEC and stays behind. */
	*error = posix_spawn_file_actions_init(&actions);
	if (*error == 0) {
		posix_spawn_file_actions_adddup2(&actions, null_fd, STDIN_FILENO);
		posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
		*error = posix_spawn(&pid, argv[0], &actions, NULL,
				     (char *const *)argv, child_environment);
		posix_spawn_file_actions_destroy(&actions);
	}
	close(null_fd);
	return *error == 0 ? pid : -1;
}

static void close_pipe(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

/* Waits for the child until the deadline, then kills it. A child that
 * closed its output but keeps running must not hold the inventory up.
 * Returns 0 or ETIMEDOUT. */
static int reap_child(pid_t pid, int64_t deadline, bool kill_now, int *wstatus)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int r = 0;

	if (kill_now)
		kill(pid, SIGKILL);
	for (;;) {
		pid_t done = waitpid(pid, wstatus, kill_now ? 0 : WNOHANG);

		if (done == pid || (done < 0 && errno != EINTR))
			return r;
		if (done == 0 && monotonic_ms() >= deadline) {
			kill(pid, SIGKILL);
			kill_now = true;
			r = ETIMEDOUT;
		} else if (done == 0) {
			nanosleep(&pause, NULL);
		}
	}
}

static void describe_failure(int collected, const char *const argv[],
			     size_t max_out, int timeout_ms, char *why,
			     size_t why_len)
{
	if (collected == ETIMEDOUT)
		snprintf(why, why_len, "%s did not finish within %d s", argv[0],
			 timeout_ms / 1000);
	else if (collected == EFBIG)
		snprintf(why, why_len, "%s wrote more than %zu bytes", argv[0], max_out);
	else if (collected == ENOMEM)
		snprintf(why, why_len, "out of memory");
	else
		snprintf(why, why_len, "reading the output of %s failed: %s", argv[0],
			 strerror(collected));
}

int inv_run(const char *const argv[], size_t max_out, int timeout_ms,
	    inv_child *child, char *why, size_t why_len)
{
	int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	child_pipes pipes = { .out = -1, .err = -1 };
	int error = 0, collected, reaped, wstatus = 0;
	int64_t deadline = monotonic_ms() + timeout_ms;
	pid_t pid;

	memset(child, 0, sizeof(*child));
	child->status = -1;

	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		snprintf(why, why_len, "creating a pipe failed: %s", strerror(errno));
		close_pipe(out_pipe);
		close_pipe(err_pipe);
		return -1;
	}

	pid = spawn_child(argv, out_pipe[1], err_pipe[1], &error);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (pid < 0) {
		snprintf(why, why_len, "starting %s failed: %s", argv[0], strerror(error));
		close(out_pipe[0]);
		close(err_pipe[0]);
		return -1;
	}

	pipes.out = out_pipe[0];
	pipes.err = err_pipe[0];
	collected = collect_output(&pipes, child, max_out, deadline);
	if (pipes.out >= 0)
		close(pipes.out);
	if (pipes.err >= 0)
		close(pipes.err);
	reaped = reap_child(pid, deadline, collected != 0, &wstatus);

	if (collected == 0)
		collected = reaped;
	if (collected == 0 && child->out == NULL && (child->out = strdup("")) == NULL)
		collected = ENOMEM;
	if (collected == 0 && child->err == NULL && (child->err = strdup("")) == NULL)
		collected = ENOMEM;
	if (collected != 0) {
		describe_failure(collected, argv, max_out, timeout_ms, why, why_len);
		inv_child_clear(child);
		return -1;
	}

	child->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	return 0;
}
