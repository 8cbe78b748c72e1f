/* The notify command: run once per request, approval, denial,
 * cancellation, expiry, break-glass, review and issued grant, with the
 * event's journal fields as one JSON object on its standard input.
 *
 * It runs without a shell (execve with a fixed argv and a fixed
 * environment), in a process group of its own that is killed after
 * NOTIFY_TIMEOUT_MS, and only after the client has its response. Whatever
 * it does, the workflow's result stands; a failure is logged to syslog
 * (authpriv), which journald keeps. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"

#define NOTIFY_TIMEOUT_MS 5000
/* Notifications per jitctl process; more events than this in one
 * operation (a sweep that expired many requests) are logged and dropped,
 * so that one connection cannot keep the broker busy for minutes. */
#define NOTIFY_MAX_EVENTS 32

void notify_record(broker_events *events, const jit_config *config,
		   const jit_event *ev)
{
	jit_strlist fields = { 0 };
	json_object *object;
	const char *text;

	if (config->notify_command == NULL)
		return;
	if (events->texts.count >= NOTIFY_MAX_EVENTS) {
		events->dropped++;
		return;
	}
	if (jit_event_build(ev, &fields, NULL) != JIT_OK) {
		events->dropped++;
		return;
	}

	object = json_object_new_object();
	for (size_t i = 0; object != NULL && i < fields.count; i++) {
		const char *item = fields.items[i];
		const char *equals = strchr(item, '=');
		char name[64];

		if (equals == NULL || (size_t)(equals - item) >= sizeof(name))
			continue;
		memcpy(name, item, (size_t)(equals - item));
		name[equals - item] = '\0';
		json_object_object_add(object, name, json_object_new_string(equals + 1));
	}

	text = object != NULL ? json_object_to_json_string_ext(object,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	if (text == NULL || jit_strlist_append(&events->texts, text) != JIT_OK)
		events->dropped++;
	json_object_put(object);
	jit_strlist_clear(&fields);
}

void broker_events_clear(broker_events *events)
{
	jit_strlist_clear(&events->texts);
	events->dropped = 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks the command as the configuration and key files are checked: it
 * runs as root, so whoever could change it would act as root. */
static bool command_safe(const char *path)
{
	jit_error error;
	bool safe;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s not run: %s", path, strerror(errno));
		return false;
	}
	jit_error_clear(&error);
	safe = jit_file_check_safe(fd, path, false, &error) == JIT_OK;
	if (!safe)
		syslog(LOG_AUTHPRIV | LOG_WARNING, "jit: notify command not run: %s",
		       error.message);
	close(fd);
	return safe;
}

static void exec_command(const char *path, int input)
{
	char *const argv[] = { (char *)path, NULL };
	char *const envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		NULL,
	};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	setpgid(0, 0);
	if (null < 0 || dup2(input, STDIN_FILENO) < 0 ||
	    dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
		_exit(126);
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	execve(path, argv, envp);
	_exit(127);
}

/* Writes text to fd without ever blocking past deadline. */
static void write_input(int fd, const char *text, int64_t deadline)
{
	size_t length = strlen(text), done = 0;

	while (done < length) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		n = write(fd, text + done, length - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (size_t)n;
	}
}

/* Waits for pid until deadline, then kills its process group. */
static int wait_bounded(pid_t pid, int64_t deadline, bool *killed)
{
	int status = 0;

	*killed = false;
	for (;;) {
		pid_t done = waitpid(pid, &status, WNOHANG);

		if (done == pid)
			return status;
		if (done < 0 && errno != EINTR)
			return -1;
		if (monotonic_ms() >= deadline)
			break;
		usleep(10 * 1000);
	}

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	*killed = true;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void log_result(const char *path, const char *text, int status,
		       bool killed)
{
	if (killed)
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s killed after %d ms for event %.200s",
		       path, NOTIFY_TIMEOUT_MS, text);
	else if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s failed (%s %d) for event %.200s",
		       path, WIFEXITED(status) ? "exit status" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		       text);
}

static void run_one(const char *path, const char *text)
{
	int64_t deadline = monotonic_ms() + NOTIFY_TIMEOUT_MS;
	int pipe_fds[2], status;
	bool killed;
	pid_t pid;

	if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s not run: pipe failed: %s", path,
		       strerror(errno));
		return;
	}

	pid = fork();
	if (pid == 0)
		exec_command(path, pipe_fds[0]);
	close(pipe_fds[0]);
	if (pid < 0) {
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s not run: fork failed: %s", path,
		       strerror(errno));
		close(pipe_fds[1]);
		return;
	}

	/* The child may exit without reading: that must not kill jitctl. */
	fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);
	write_input(pipe_fds[1], text, deadline);
	close(pipe_fds[1]);
	status = wait_bounded(pid, deadline, &killed);
	log_result(path, text, status, killed);
}

static void run_all(const char *path, const broker_events *events)
{
	if (events->dropped > 0)
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s not run for %zu events (at most %d per operation)",
		       path, events->dropped, NOTIFY_MAX_EVENTS);
	if (events->texts.count == 0 || !command_safe(path))
		return;
	for (size_t i = 0; i < events->texts.count; i++)
		run_one(path, events->texts.items[i]);
}

/* Runs the notifications in a grandchild that nobody waits for, so that a
 * jitctl run by root on a terminal returns at once. */
static void run_detached(const char *path, const broker_events *events)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "jit: notify command %s not run: fork failed: %s", path,
		       strerror(errno));
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		setsid();
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		if (fork() == 0) {
			run_all(path, events);
			_exit(0);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

void notify_run(const jit_config *config, const broker_events *events,
		bool detach)
{
	const char *path = config->notify_command;

	if (path == NULL || (events->texts.count == 0 && events->dropped == 0))
		return;

	/* SIGPIPE would end jitctl if a notifier closes its input early. */
	signal(SIGPIPE, SIG_IGN);
	if (detach)
		run_detached(path, events);
	else
		run_all(path, events);
}
