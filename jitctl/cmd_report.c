/* jitctl report: an access review built from the evidence chain, per user
 * and role: grants, approvers, uses per grant, grants never used,
 * break-glass grants awaiting review, longest and total privileged time. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

enum {
	OPT_SINCE = CTL_OPT_FIRST,
	OPT_CSV,
};

#define REPORT_SINCE_MAX ((int64_t)10 * 366 * 24 * 3600)

/* One grant issued in the period, as the chain tells it. */
typedef struct report_grant {
	const jit_chain_record *issued;
	int64_t start;          /* seconds: issue time or not_before, later one */
	int64_t end;            /* not_after, or the revocation when earlier */
	size_t uses;
	size_t denials;
	bool break_glass;
	bool reviewed;
} report_grant;

typedef struct report {
	report_grant *grants;
	size_t count;
} report;

static int64_t detail_seconds(const jit_chain_record *r, const char *key)
{
	const char *value = jit_chain_record_detail(r, key);

	return value != NULL ? strtoll(value, NULL, 10) : 0;
}

static bool is_issue(const jit_chain_record *r)
{
	return strcmp(r->type, "grant-issued") == 0 ||
	       strcmp(r->type, "grant-imported") == 0 ||
	       strcmp(r->type, "break-glass-used") == 0;
}

static report_grant *find_grant(report *rep, const char *id)
{
	for (size_t i = 0; i < rep->count; i++)
		if (strcmp(rep->grants[i].issued->grant_id, id) == 0)
			return &rep->grants[i];
	return NULL;
}

static void add_issue(report *rep, const jit_chain_record *r)
{
	report_grant *g = &rep->grants[rep->count++];
	int64_t issued_at = r->time_ms / 1000;
	int64_t not_before = detail_seconds(r, "not_before");

	memset(g, 0, sizeof(*g));
	g->issued = r;
	g->start = not_before > issued_at ? not_before : issued_at;
	g->end = detail_seconds(r, "not_after");
	g->break_glass = strcmp(r->type, "break-glass-used") == 0;
}

/* Applies a later record to the grant it names. */
static void add_record(report *rep, const jit_chain_record *r)
{
	report_grant *g = find_grant(rep, r->grant_id);
	int64_t at = r->time_ms / 1000;

	if (g == NULL)
		return;
	if (strcmp(r->type, "access-allowed") == 0)
		g->uses++;
	else if (strcmp(r->type, "access-denied") == 0)
		g->denials++;
	else if (strcmp(r->type, "grant-reviewed") == 0)
		g->reviewed = true;
	else if (strcmp(r->type, "grant-revoked") == 0 && at < g->end)
		g->end = at;
}

static int64_t privileged_seconds(const report_grant *g, int64_t now)
{
	int64_t end = g->end < now ? g->end : now;

	return end > g->start ? end - g->start : 0;
}

static int build_report(const jitctl *ctl, int64_t since,
			const jit_chain_record *records, size_t count,
			report *rep)
{
	rep->grants = calloc(count > 0 ? count : 1, sizeof(*rep->grants));
	rep->count = 0;
	if (rep->grants == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}
	for (size_t i = 0; i < count; i++) {
		const jit_chain_record *r = &records[i];

		if (is_issue(r) && r->time_ms / 1000 >= since &&
		    r->grant_id[0] != '\0' && find_grant(rep, r->grant_id) == NULL)
			add_issue(rep, r);
		else if (r->grant_id[0] != '\0')
			add_record(rep, r);
	}
	return CTL_EXIT_OK;
}

static const char *role_of(const report_grant *g)
{
	const char *role = jit_chain_record_detail(g->issued, "role");

	return role != NULL ? role : "";
}

static const char *approvers_of(const report_grant *g)
{
	const char *approvers = jit_chain_record_detail(g->issued, "approvers");

	return approvers != NULL ? approvers : "";
}

static int compare_grants(const void *a, const void *b)
{
	const report_grant *x = a, *y = b;
	int c = strcmp(x->issued->user, y->issued->user);

	if (c == 0)
		c = strcmp(role_of(x), role_of(y));
	if (c == 0)
		c = x->issued->seq < y->issued->seq ? -1 : 1;
	return c;
}

static bool same_group(const report_grant *a, const report_grant *b)
{
	return strcmp(a->issued->user, b->issued->user) == 0 &&
	       strcmp(role_of(a), role_of(b)) == 0;
}

/* Totals of the grants [first, last) of one user and role. */
typedef struct report_group {
	size_t grants, uses, unused, awaiting_review;
	int64_t longest, total;
} report_group;

static report_group sum_group(const report_grant *first,
			      const report_grant *last, int64_t now)
{
	report_group sum = { 0 };

	for (const report_grant *g = first; g < last; g++) {
		int64_t seconds = privileged_seconds(g, now);

		sum.grants++;
		sum.uses += g->uses;
		sum.unused += g->uses == 0;
		sum.awaiting_review += g->break_glass && !g->reviewed;
		sum.total += seconds;
		if (seconds > sum.longest)
			sum.longest = seconds;
	}
	return sum;
}

static void print_text(const report *rep, int64_t now)
{
	char longest[32], total[32], held[32];
	size_t i = 0;

	if (rep->count == 0)
		printf("no grants were issued in the period\n");
	while (i < rep->count) {
		size_t end = i;
		report_group sum;

		while (end < rep->count && same_group(&rep->grants[i], &rep->grants[end]))
			end++;
		sum = sum_group(&rep->grants[i], &rep->grants[end], now);
		jit_duration_format(sum.longest, longest, sizeof(longest));
		jit_duration_format(sum.total, total, sizeof(total));
		printf("%s, role %s: %zu grant%s, %zu use%s, %zu never used, %zu break-glass awaiting review, longest %s, total %s\n",
		       rep->grants[i].issued->user, role_of(&rep->grants[i]),
		       sum.grants, sum.grants == 1 ? "" : "s", sum.uses,
		       sum.uses == 1 ? "" : "s", sum.unused,
		       sum.awaiting_review, sum.longest > 0 ? longest : "0s",
		       sum.total > 0 ? total : "0s");
		for (; i < end; i++) {
			const report_grant *g = &rep->grants[i];
			int64_t seconds = privileged_seconds(g, now);

			jit_duration_format(seconds, held, sizeof(held));
			printf("  grant %s: approved by %s, used %zu time%s, held %s%s\n",
			       g->issued->grant_id,
			       approvers_of(g)[0] != '\0' ? approvers_of(g) : "-",
			       g->uses, g->uses == 1 ? "" : "s",
			       seconds > 0 ? held : "0s",
			       g->break_glass ? (g->reviewed ? ", break-glass, reviewed" :
						 ", break-glass, awaiting review") : "");
		}
	}
}

/* Writes a CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(const char *text, bool last)
{
	if (strpbrk(text, ",\"\r\n") == NULL) {
		fputs(text, stdout);
	} else {
		putchar('"');
		for (const char *c = text; *c != '\0'; c++) {
			if (*c == '"')
				putchar('"');
			putchar(*c);
		}
		putchar('"');
	}
	putchar(last ? '\n' : ',');
}

static void print_csv(const report *rep, int64_t now)
{
	printf("user,role,grant_id,approvers,uses,denials,break_glass,reviewed,privileged_seconds\n");
	for (size_t i = 0; i < rep->count; i++) {
		const report_grant *g = &rep->grants[i];

		csv_field(g->issued->user, false);
		csv_field(role_of(g), false);
		csv_field(g->issued->grant_id, false);
		csv_field(approvers_of(g), false);
		printf("%zu,%zu,%s,%s,%lld\n", g->uses, g->denials,
		       g->break_glass ? "yes" : "no",
		       g->reviewed ? "yes" : "no",
		       (long long)privileged_seconds(g, now));
	}
}

static json_object *grant_json(json_builder *b, const report_grant *g,
			       int64_t now)
{
	json_object *object = json_object_new_object();

	json_put(b, object, "grant_id", json_object_new_string(g->issued->grant_id));
	json_put(b, object, "approvers", json_object_new_string(approvers_of(g)));
	json_put(b, object, "uses", json_object_new_uint64(g->uses));
	json_put(b, object, "denials", json_object_new_uint64(g->denials));
	json_put(b, object, "break_glass", json_object_new_boolean(g->break_glass));
	json_put(b, object, "reviewed", json_object_new_boolean(g->reviewed));
	json_put(b, object, "privileged_seconds",
		 json_object_new_int64(privileged_seconds(g, now)));
	return object;
}

static json_object *group_json(json_builder *b, const report_grant *first,
			       const report_grant *last, int64_t now)
{
	report_group sum = sum_group(first, last, now);
	json_object *object = json_object_new_object();
	json_object *grants = json_object_new_array();

	json_put(b, object, "user", json_object_new_string(first->issued->user));
	json_put(b, object, "role", json_object_new_string(role_of(first)));
	json_put(b, object, "grant_count", json_object_new_uint64(sum.grants));
	json_put(b, object, "uses", json_object_new_uint64(sum.uses));
	json_put(b, object, "never_used", json_object_new_uint64(sum.unused));
	json_put(b, object, "break_glass_awaiting_review",
		 json_object_new_uint64(sum.awaiting_review));
	json_put(b, object, "longest_seconds", json_object_new_int64(sum.longest));
	json_put(b, object, "total_seconds", json_object_new_int64(sum.total));
	for (const report_grant *g = first; g < last; g++)
		json_append(b, grants, grant_json(b, g, now));
	json_put(b, object, "grants", grants);
	return object;
}

static int print_json(const jitctl *ctl, const report *rep, int64_t now)
{
	json_object *array = json_object_new_array();
	json_builder b = { .failed = array == NULL };
	size_t i = 0;

	while (i < rep->count) {
		size_t end = i;

		while (end < rep->count && same_group(&rep->grants[i], &rep->grants[end]))
			end++;
		json_append(&b, array, group_json(&b, &rep->grants[i],
						  &rep->grants[end], now));
		i = end;
	}
	if (b.failed) {
		json_object_put(array);
		array = NULL;
	}
	return output_json(ctl, array);
}

static int run_report(const jitctl *ctl, int64_t since, bool csv)
{
	jit_chain_record *records = NULL;
	jit_store *store = NULL;
	report rep = { 0 };
	int64_t now = ctl->now_ms / 1000;
	size_t count = 0;
	jit_error error;
	int r;

	r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	if (r != CTL_EXIT_OK)
		return r;
	jit_error_clear(&error);
	if (jit_store_chain_load(store, 1, 0, &records, &count, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
	jit_store_close(store);
	if (r == CTL_EXIT_OK)
		r = build_report(ctl, since, records, count, &rep);
	if (r != CTL_EXIT_OK)
		goto out;

	qsort(rep.grants, rep.count, sizeof(*rep.grants), compare_grants);
	if (ctl->json)
		r = print_json(ctl, &rep, now);
	else if (csv)
		print_csv(&rep, now);
	else
		print_text(&rep, now);
out:
	free(rep.grants);
	jit_chain_records_free(records, count);
	return r;
}

int cmd_report(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *since_text = "30d";
	int64_t since, seconds;
	bool csv = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_SINCE)
			since_text = optarg;
		else if (opt == OPT_CSV)
			csv = true;
		else if (opt == CTL_OPT_JSON)
			ctl->json = true;
		else if ((r = ctl_common_option(ctl, opt, argv)) != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	if (csv && ctl->json)
		return ctl_usage_error(ctl, "--csv and --json cannot be combined");

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	if (jit_duration_parse(since_text, REPORT_SINCE_MAX, &seconds, NULL) == JIT_OK)
		since = ctl->now_ms / 1000 - seconds;
	else if (jit_time_parse(since_text, ctl->now_ms / 1000, &since, NULL) != JIT_OK)
		return ctl_usage_error(ctl, "invalid --since '%s': give a duration such as 30d or a time such as 2026-12-01T00:00:00Z",
				       since_text);
	return run_report(ctl, since, csv);
}
