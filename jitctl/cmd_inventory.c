/* jitctl inventory: list the standing privilege on this host, rate it,
 * and suggest the grants that would replace it. It only reads. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"

#define DEFAULT_SSHD_CONFIG "/etc/ssh/sshd_config"

enum {
	OPT_SSHD_CONFIG = CTL_OPT_FIRST,
	OPT_GROUP,
};

/* A host without jit is the usual place to run an inventory, so a missing
 * configuration only means that there are no grants to check. */
static void load_config(jitctl *ctl, inventory *inv)
{
	jit_error error;

	ctl->now_ms = jit_clock_now_ms();
	jit_error_clear(&error);
	if (jit_config_load(ctl->config_path, &ctl->config, &error) == JIT_OK)
		return;

	if (error.code == JIT_ERR_NOT_FOUND)
		inv_add(inv, INV_INFO, INV_HOST, "jit", error.message,
			"install jit and run jitctl init, then replace the findings with roles and grants",
			"jit is not configured on this host");
	else
		inv_add(inv, INV_HIGH, INV_HOST, "jit", error.message,
			"fix the configuration: while it is invalid, jit denies every request and its grants cannot be checked",
			"cannot read the jit configuration");
}

/* Accounts in name order, findings for the whole host last; within an
 * account the most severe first, then in the order they were found. */
static int compare_findings(const void *a, const void *b)
{
	const inv_finding *x = a, *y = b;
	bool x_host = strcmp(x->account, INV_HOST) == 0;
	bool y_host = strcmp(y->account, INV_HOST) == 0;
	int r;

	if (x_host != y_host)
		return x_host ? 1 : -1;
	r = strcmp(x->account, y->account);
	if (r != 0)
		return r;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void count_findings(const inventory *inv, size_t counts[INV_HIGH + 1])
{
	for (int s = INV_INFO; s <= INV_HIGH; s++)
		counts[s] = 0;
	for (size_t i = 0; i < inv->count; i++)
		counts[inv->findings[i].severity]++;
}

static void print_table(const inventory *inv)
{
	size_t counts[INV_HIGH + 1];

	if (inv->count == 0) {
		puts("no standing privilege found");
		return;
	}

	for (size_t i = 0; i < inv->count; i++) {
		const inv_finding *finding = &inv->findings[i];

		if (i == 0 || strcmp(finding->account, inv->findings[i - 1].account) != 0)
			printf("%s%s\n", i > 0 ? "\n" : "", finding->account);
		printf("  %-6s  %-8s  %s\n", inv_severity_name(finding->severity),
		       finding->source, finding->title);
		printf("  %-6s  %-8s  evidence: %s\n", "", "", finding->evidence);
		printf("  %-6s  %-8s  replace:  %s\n", "", "", finding->suggestion);
	}

	count_findings(inv, counts);
	printf("\n%zu finding%s: %zu high, %zu medium, %zu low, %zu info\n",
	       inv->count, inv->count == 1 ? "" : "s", counts[INV_HIGH],
	       counts[INV_MEDIUM], counts[INV_LOW], counts[INV_INFO]);
}

static json_object *finding_json(json_builder *b, const inv_finding *finding)
{
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;
	json_put(b, object, "account", json_object_new_string(finding->account));
	json_put(b, object, "severity",
		 json_object_new_string(inv_severity_name(finding->severity)));
	json_put(b, object, "source", json_object_new_string(finding->source));
	json_put(b, object, "title", json_object_new_string(finding->title));
	json_put(b, object, "evidence", json_object_new_string(finding->evidence));
	json_put(b, object, "suggestion", json_object_new_string(finding->suggestion));
	return object;
}

static int print_json(const jitctl *ctl, const inventory *inv)
{
	json_builder b = { .failed = false };
	json_object *object = json_object_new_object();
	json_object *findings = json_object_new_array();
	json_object *counts = json_object_new_object();
	size_t count[INV_HIGH + 1];

	if (object == NULL || findings == NULL || counts == NULL) {
		json_object_put(findings);
		json_object_put(counts);
		json_object_put(object);
		return output_json(ctl, NULL);
	}

	for (size_t i = 0; i < inv->count; i++)
		json_append(&b, findings, finding_json(&b, &inv->findings[i]));
	count_findings(inv, count);
	for (int s = INV_HIGH; s >= INV_INFO; s--)
		json_put(&b, counts, inv_severity_name((inv_severity)s),
			 json_object_new_int64((int64_t)count[s]));
	json_put(&b, object, "findings", findings);
	json_put(&b, object, "counts", counts);

	if (b.failed) {
		json_object_put(object);
		return output_json(ctl, NULL);
	}
	return output_json(ctl, object);
}

static int parse_options(jitctl *ctl, inventory *inv, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		{ "sshd-config", required_argument, NULL, OPT_SSHD_CONFIG },
		{ "group", required_argument, NULL, OPT_GROUP },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == CTL_OPT_JSON) {
			ctl->json = true;
		} else if (opt == OPT_SSHD_CONFIG) {
			inv->sshd_config = optarg;
		} else if (opt == OPT_GROUP) {
			if (!jit_valid_name(optarg))
				return ctl_usage_error(ctl, "invalid group name '%s' for --group", optarg);
			if (jit_strlist_append(&inv->extra_groups, optarg) != JIT_OK) {
				ctl_error(ctl, "out of memory");
				return CTL_EXIT_FAIL;
			}
		} else {
			r = ctl_common_option(ctl, opt, argv);
			if (r != CTL_CONTINUE)
				return r;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	return CTL_CONTINUE;
}

/* The order matters: each source adds the accounts it finds privileged,
 * and SSH then lists the keys of all of them. */
static void scan_all(inventory *inv)
{
	inv_scan_accounts(inv);
	inv_scan_groups(inv);
	inv_scan_sudoers(inv);
	inv_scan_polkit(inv);
	inv_scan_ssh(inv);
	inv_scan_setuid(inv);
	inv_scan_grants(inv);
}

int cmd_inventory(jitctl *ctl, int argc, char **argv)
{
	inventory inv = {
		.ctl = ctl,
		.sshd_config = DEFAULT_SSHD_CONFIG,
	};
	size_t counts[INV_HIGH + 1];
	int r;

	r = parse_options(ctl, &inv, argc, argv);
	if (r != CTL_CONTINUE)
		goto out;

	if (geteuid() != 0)
		ctl_warn(ctl, "not running as root: every source only root can read is a high finding");
	load_config(ctl, &inv);
	scan_all(&inv);
	if (inv.out_of_memory) {
		ctl_error(ctl, "out of memory while taking the inventory");
		r = CTL_EXIT_FAIL;
		goto out;
	}

	if (inv.count > 0)
		qsort(inv.findings, inv.count, sizeof(*inv.findings), compare_findings);
	if (ctl->json) {
		r = print_json(ctl, &inv);
		if (r != CTL_EXIT_OK)
			goto out;
	} else {
		print_table(&inv);
	}

	/* The exit status is the monitoring contract: 1 when anything of high
	 * severity was found, which includes a source that could not be read. */
	count_findings(&inv, counts);
	r = counts[INV_HIGH] > 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	inv_clear(&inv);
	return r;
}
