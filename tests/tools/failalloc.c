/* failalloc: an LD_PRELOAD library that makes memory allocation fail, for
 * the fault tests.
 *
 *   FAILALLOC_AT=N LD_PRELOAD=libfailalloc.so PROGRAM...
 *
 * Counts calls to malloc, calloc, realloc and strdup made after the library
 * was loaded; from the Nth call on each returns NULL with errno ENOMEM.
 * Without FAILALLOC_AT (or with 0) nothing fails. When the program exits,
 * and FAILALLOC_REPORT names a file, the number of calls seen is written
 * there, so a driver can tell when N passed the last allocation of a run.
 * A crash (SIGSEGV, SIGBUS, SIGABRT) prints a backtrace to stderr before
 * the signal takes its normal course, so a failing run names its site.
 *
 * The real functions are found with dlsym(RTLD_NEXT); dlsym may itself
 * allocate before they are known, so those early calls are served from a
 * small static arena. */

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;

static unsigned long fail_at;
static unsigned long calls;
static int resolving;

static _Alignas(16) char arena[8192];
static size_t arena_used;

static void *arena_alloc(size_t size)
{
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (size > sizeof(arena) - arena_used)
		return NULL;
	p = arena + arena_used;
	arena_used += size;
	return p;
}

static int in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof(arena);
}

static void resolve(void)
{
	const char *at;

	if (real_malloc != NULL || resolving)
		return;
	resolving = 1;
	*(void **)&real_malloc = dlsym(RTLD_NEXT, "malloc");
	*(void **)&real_calloc = dlsym(RTLD_NEXT, "calloc");
	*(void **)&real_realloc = dlsym(RTLD_NEXT, "realloc");
	*(void **)&real_free = dlsym(RTLD_NEXT, "free");
	at = getenv("FAILALLOC_AT");
	if (at != NULL)
		fail_at = strtoul(at, NULL, 10);
	resolving = 0;
}

/* Counts one call and says whether it must fail. */
static int should_fail(void)
{
	calls++;
	if (fail_at != 0 && calls >= fail_at) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t size)
{
	resolve();
	if (real_malloc == NULL)
		return arena_alloc(size);
	if (should_fail())
		return NULL;
	return real_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	void *p;

	resolve();
	if (real_calloc == NULL) {
		if (size != 0 && n > SIZE_MAX / size)
			return NULL;
		p = arena_alloc(n * size);
		if (p != NULL)
			memset(p, 0, n * size);
		return p;
	}
	if (should_fail())
		return NULL;
	return real_calloc(n, size);
}

void *realloc(void *old, size_t size)
{
	void *p;

	resolve();
	if (in_arena(old)) {
		p = malloc(size);
		if (p != NULL)
			memcpy(p, old, size < 64 ? size : 64);
		return p;
	}
	if (real_realloc == NULL)
		return NULL;
	if (should_fail())
		return NULL;
	return real_realloc(old, size);
}

void free(void *p)
{
	if (p == NULL || in_arena(p))
		return;
	resolve();
	if (real_free != NULL)
		real_free(p);
}

char *strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = malloc(len);

	if (p != NULL)
		memcpy(p, s, len);
	return p;
}

static void on_crash(int sig)
{
	void *frames[64];
	int n;

	n = backtrace(frames, 64);
	(void)!write(STDERR_FILENO, "failalloc: crash backtrace:\n", 28);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	raise(sig);
}

/* backtrace() loads libgcc on first use, which allocates: do it now,
 * before any allocation is made to fail. */
__attribute__((constructor)) static void install_crash_handler(void)
{
	struct sigaction action = { .sa_handler = on_crash };
	void *frame;

	/* One shot: a crash inside the handler, or the raise() that ends it,
	 * gets the default action. */
	action.sa_flags = SA_RESETHAND | SA_NODEFER;
	(void)backtrace(&frame, 1);
	sigaction(SIGSEGV, &action, NULL);
	sigaction(SIGBUS, &action, NULL);
	sigaction(SIGABRT, &action, NULL);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("FAILALLOC_REPORT");
	char line[32];
	int fd, n;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lu\n", calls);
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
	close(fd);
}
