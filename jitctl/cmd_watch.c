/* jitctl watch: the long-running watcher that ends sessions when their
 * grant ends.
 *
 * A periodic reap alone ends a session up to a whole period after its
 * grant, which is far above the two seconds an SSH session may outlive it.
 * The watcher sweeps the recorded sessions at least once a second, and
 * sleeps until the exact end of the earliest grant with a recorded session
 * when that comes sooner, so a session ends within milliseconds of its
 * grant. The sleep is on the wall clock (CLOCK_REALTIME, absolute), the
 * clock that grant times are in, so a clock step or a suspend does not
 * delay it by more than one tick. Every --reap-interval it also removes
 * expired grants. jitctl revoke ends a revoked grant's sessions itself. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"

enum {
	OPT_REAP_INTERVAL = CTL_OPT_FIRST,
};

#define WATCH_TICK_MS 1000
#define WATCH_DEFAULT_REAP_INTERVAL 60
#define WATCH_REAP_BATCH 1000

static volatile sig_atomic_t stop_signal;

static void on_stop(int signal)
{
	stop_signal = signal;
}

/* SIGTERM, SIGINT and SIGHUP stop the watcher between sweeps. Without
 * SA_RESTART they also cut its sleep short. */
static int install_handlers(const jitctl *ctl)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on_stop;
	sigemptyset(&action.sa_mask);

	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (sigaction(signals[i], &action, NULL) < 0) {
			ctl_error(ctl, "installing the handler for signal %d failed: %s",
				  signals[i], strerror(errno));
			return CTL_EXIT_FAIL;
		}
	}
	return CTL_EXIT_OK;
}

/* The next wake-up: the next whole second, or the earliest session's due
 * time when that is sooner (grant ends fall on whole seconds, so both
 * meet there). */
static int64_t next_wake(int64_t now_ms, int64_t due_ms)
{
	int64_t wake = (now_ms / WATCH_TICK_MS + 1) * WATCH_TICK_MS;

	if (due_ms > now_ms && due_ms < wake)
		wake = due_ms;
	return wake;
}

static void sleep_until(int64_t wake_ms)
{
	struct timespec until = {
		.tv_sec = (time_t)(wake_ms / 1000),
		.tv_nsec = (long)(wake_ms % 1000) * 1000000L,
	};

	/* An interruption by a stop signal ends the sleep; the caller looks
	 * at stop_signal. */
	(void)clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
}

static void reap_if_due(const jitctl *ctl, int64_t interval_ms,
			int64_t now_ms, int64_t *next_reap_ms)
{
	size_t removed = 0;
	bool reaped;

	if (interval_ms <= 0 || now_ms < *next_reap_ms)
		return;
	*next_reap_ms = now_ms + interval_ms;

	if (ctl_reap_grants(ctl, WATCH_REAP_BATCH, now_ms, &removed,
			    &reaped) == CTL_EXIT_OK && removed > 0)
		printf("removed %zu expired grant%s\n", removed,
		       removed == 1 ? "" : "s");
	fflush(stdout);
}

static int watch(const jitctl *ctl, int64_t reap_interval)
{
	int64_t next_reap_ms = 0;
	unsigned long failures = 0;
	int r;

	r = install_handlers(ctl);
	if (r != CTL_EXIT_OK)
		return r;

	fprintf(stderr, "jitctl watch: started (pid %ld, store %s, reap every %llds)\n",
		(long)getpid(), ctl->config->store, (long long)reap_interval);

	while (stop_signal == 0) {
		session_sweep_options sweep = {
			.now_ms = jit_clock_now_ms(),
			.warn_seconds = JIT_SESSION_WARN_SECONDS,
			.print = true,
		};

		/* The sweep prints each failure; the count shows how long
		 * the trouble has lasted. */
		if (ctl_sweep_sessions(ctl, &sweep) != CTL_EXIT_OK)
			fprintf(stderr, "jitctl watch: sweep failed (%lu in a row), retrying in a second\n",
				++failures);
		else
			failures = 0;

		reap_if_due(ctl, reap_interval * 1000, sweep.now_ms,
			    &next_reap_ms);
		fflush(stdout);
		sleep_until(next_wake(jit_clock_now_ms(), sweep.next_due_ms));
	}

	fprintf(stderr, "jitctl watch: stopped by signal %d\n", (int)stop_signal);
	return CTL_EXIT_OK;
}

static int parse_interval(const jitctl *ctl, const char *text,
			  int64_t *seconds)
{
	jit_error error;

	if (strcmp(text, "0") == 0) {
		*seconds = 0;
		return CTL_EXIT_OK;
	}
	jit_error_clear(&error);
	if (jit_duration_parse(text, 0, seconds, &error) != JIT_OK) {
		ctl_error(ctl, "invalid --reap-interval: %s", error.message);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

int cmd_watch(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "reap-interval", required_argument, NULL, OPT_REAP_INTERVAL },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int64_t reap_interval = WATCH_DEFAULT_REAP_INTERVAL;
	const char *interval_text = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_REAP_INTERVAL) {
			interval_text = optarg;
			continue;
		}
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	r = ctl_prepare(ctl);
	if (r == CTL_EXIT_OK && interval_text != NULL)
		r = parse_interval(ctl, interval_text, &reap_interval);
	if (r != CTL_EXIT_OK)
		return r;
	return watch(ctl, reap_interval);
}
