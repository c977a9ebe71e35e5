/* SPDX-License-Identifier: ISC */
/*
 * test_fw_policy.c - the firewall helper's policy file
 * (firewall/fw_policy.c): its syntax, what it grants whom, and the
 * loader's refusals.
 */
#include <sys/stat.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw_policy.h"

static int
parse(struct fw_policy *p, const char *text, char *err, size_t errlen)
{
	return fw_policy_parse(p, "helper.conf", text, strlen(text), err,
	    errlen);
}

static void
expect_error(const char *text, const char *want)
{
	struct fw_policy p;
	char err[256];

	err[0] = '\0';
	if (parse(&p, text, err, sizeof(err)) == 0)
		fail_msg("accepted \"%s\"", text);
	if (strstr(err, want) == NULL)
		fail_msg("\"%s\": error \"%s\", want \"%s\"", text, err, want);
	assert_null(p.v);
	assert_int_equal(p.n, 0);
}

static void
test_syntax(void **state)
{
	struct fw_policy p;
	char err[256];

	assert_int_equal(parse(&p,
	    "# who may do more than carry their own traffic\n"
	    "\n"
	    "allow alice lan\n"
	    "  allow\t%netadm host-wide lan   # both\n"
	    "max-helpers bob 8\r\n"
	    "max-helpers %staff 16", err, sizeof(err)), 0);
	assert_int_equal(p.n, 4);
	assert_string_equal(p.v[0].name, "alice");
	assert_false(p.v[0].group);
	assert_int_equal(p.v[0].allow, FW_POLICY_LAN);
	assert_int_equal(p.v[0].line, 3);
	assert_string_equal(p.v[1].name, "netadm");
	assert_true(p.v[1].group);
	assert_int_equal(p.v[1].allow, FW_POLICY_LAN | FW_POLICY_HOST_WIDE);
	assert_int_equal(p.v[2].max_helpers, 8);
	assert_int_equal(p.v[2].allow, 0);
	assert_int_equal(p.v[3].max_helpers, 16);
	assert_int_equal(p.v[3].line, 6);
	fw_policy_free(&p);
	fw_policy_free(&p);
	fw_policy_free(NULL);

	assert_int_equal(parse(&p, "", err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(parse(&p, "# nothing\n\n", err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);

	/* unknown keywords and directives name their line: a file for a
	 * later cshuttle is refused, not half understood */
	expect_error("allow alice lan\nallow bob teleport\n",
	    "helper.conf:2: allow: unknown keyword \"teleport\" (known: lan, "
	    "host-wide, hosts, tmark)");
	expect_error("deny alice lan\n", "helper.conf:1: unknown directive "
	    "\"deny\"");
	expect_error("allow alice\n", "helper.conf:1: allow: expected");
	expect_error("allow\n", "helper.conf:1:");
	expect_error("allow -alice lan\n", "bad user or group name");
	expect_error("allow %  lan\n", "bad user or group name");
	expect_error("allow al/ice lan\n", "bad user or group name");
	expect_error("allow al*ce lan\n", "bad user or group name");
	expect_error("max-helpers alice\n", "helper.conf:1:");
	expect_error("max-helpers alice 0\n", "expected one number, 1-256");
	expect_error("max-helpers alice 257\n", "expected one number");
	expect_error("max-helpers alice 08\n", "expected one number");
	expect_error("max-helpers alice 4 5\n", "expected one number");
	expect_error("max-helpers alice four\n", "expected one number");
	expect_error("max-helpers alice 99999999999999999999\n",
	    "expected one number");
	expect_error("ALLOW alice lan\n", "unknown directive");
	{
		char text[64] = "allow alice lan\n";

		text[6] = '\0';
		assert_true(fw_policy_parse(&p, "f", text, 16, err,
		    sizeof(err)) < 0);
		assert_non_null(strstr(err, "NUL"));
	}
}

static void
test_limits(void **state)
{
	struct fw_policy p;
	char err[256], *text;
	size_t len, i;

	/* one line too long */
	text = malloc(2048);
	assert_non_null(text);
	memset(text, 'a', 2047);
	text[2047] = '\0';
	memcpy(text, "allow ", 6);
	expect_error(text, "helper.conf:1: line too long");
	free(text);

	/* the most entries, and one more */
	len = (FW_POLICY_MAX_ENTRIES + 1) * 20;
	text = malloc(len + 1);
	assert_non_null(text);
	text[0] = '\0';
	for (i = 0; i < FW_POLICY_MAX_ENTRIES; i++)
		snprintf(text + strlen(text), len + 1 - strlen(text),
		    "allow u%zu lan\n", i);
	assert_int_equal(parse(&p, text, err, sizeof(err)), 0);
	assert_int_equal(p.n, FW_POLICY_MAX_ENTRIES);
	fw_policy_free(&p);
	strcat(text, "allow x lan\n");
	expect_error(text, "more than 1024 entries");
	free(text);

	/* too many words, too many bytes */
	expect_error("allow a lan lan lan lan lan lan lan lan lan lan lan lan "
	    "lan lan lan\n", "too many words");
	text = calloc(1, FW_POLICY_MAX_BYTES + 2);
	assert_non_null(text);
	memset(text, '\n', FW_POLICY_MAX_BYTES + 1);
	assert_true(fw_policy_parse(&p, "f", text, FW_POLICY_MAX_BYTES + 1,
	    err, sizeof(err)) < 0);
	assert_int_equal(fw_policy_parse(&p, "f", text, FW_POLICY_MAX_BYTES,
	    err, sizeof(err)), 0);
	free(text);
}

static void
test_grant(void **state)
{
	static const char *const alice_groups[] = { "alice", "staff", "netadm" };
	static const char *const bob_groups[] = { "bob", "staff" };
	struct fw_policy p;
	struct fw_policy_grant g;
	char err[256];

	/* nothing: own traffic, the default number of helpers */
	fw_policy_grant(NULL, "alice", NULL, 0, &g);
	assert_int_equal(g.allow, 0);
	assert_int_equal(g.max_helpers, FW_POLICY_MAX_HELPERS_DEFAULT);

	assert_int_equal(parse(&p,
	    "allow alice lan\n"
	    "allow %netadm host-wide\n"
	    "allow carol host-wide\n"
	    "max-helpers %staff 6\n"
	    "max-helpers %netadm 10\n"
	    "max-helpers bob 2\n", err, sizeof(err)), 0);
	fw_policy_grant(&p, "alice", alice_groups, 3, &g);
	assert_int_equal(g.allow, FW_POLICY_LAN | FW_POLICY_HOST_WIDE);
	assert_int_equal(g.max_helpers, 10);	/* the largest group line */
	fw_policy_grant(&p, "bob", bob_groups, 2, &g);
	assert_int_equal(g.allow, 0);
	assert_int_equal(g.max_helpers, 2);	/* his own line wins */
	fw_policy_grant(&p, "dave", NULL, 0, &g);
	assert_int_equal(g.allow, 0);
	assert_int_equal(g.max_helpers, FW_POLICY_MAX_HELPERS_DEFAULT);
	/* a group line does not name a user, nor a user line a group */
	fw_policy_grant(&p, "netadm", bob_groups, 2, &g);
	assert_int_equal(g.allow, 0);
	fw_policy_grant(&p, "erin", (const char *const[]){ "carol" }, 1, &g);
	assert_int_equal(g.allow, 0);
	fw_policy_free(&p);

	assert_string_equal(fw_policy_keyword(FW_POLICY_LAN), "lan");
	assert_string_equal(fw_policy_keyword(FW_POLICY_HOST_WIDE), "host-wide");
	assert_string_equal(fw_policy_keyword(FW_POLICY_HOSTS), "hosts");
	assert_string_equal(fw_policy_keyword(FW_POLICY_TMARK), "tmark");
	/* tmark: a keyword of its own, given by a user's or a group's line */
	assert_int_equal(parse(&p, "allow alice tmark\nallow %netadm tmark "
	    "lan\n", err, sizeof(err)), 0);
	fw_policy_grant(&p, "alice", NULL, 0, &g);
	assert_int_equal(g.allow, FW_POLICY_TMARK);
	fw_policy_grant(&p, "bob", bob_groups, 2, &g);
	assert_int_equal(g.allow, 0);
	fw_policy_grant(&p, "carol", alice_groups, 3, &g);
	assert_int_equal(g.allow, FW_POLICY_TMARK | FW_POLICY_LAN);
	fw_policy_free(&p);
	assert_int_equal(parse(&p, "allow alice hosts lan\n", err, sizeof(err)),
	    0);
	assert_int_equal(p.v[0].allow, FW_POLICY_HOSTS | FW_POLICY_LAN);
	fw_policy_free(&p);
	assert_string_equal(fw_policy_keyword(1U << 7), "?");
}

/*
 * The loader refuses a file anybody but root could have written; a
 * missing one allows nothing more.  (Its acceptance needs root-owned
 * directories: /proc/version stands in for a root-owned file there,
 * which is read and then refused for its contents.)
 */
static void
test_load(void **state)
{
	struct fw_policy p;
	char dir[] = "/tmp/test_fw_policy.XXXXXX", path[PATH_MAX], link[PATH_MAX];
	char err[512];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/helper.conf", dir);
	snprintf(link, sizeof(link), "%s/link.conf", dir);

	assert_int_equal(fw_policy_load(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("allow alice lan\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	/* as root: /tmp is writable by all; otherwise: not root's file */
	assert_int_equal(fw_policy_load(&p, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be"));
	assert_non_null(strstr(err, "writable by nobody else"));
	assert_null(p.v);

	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(fw_policy_load(&p, link, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));

	if (access("/proc/version", R_OK) == 0) {
		assert_int_equal(fw_policy_load(&p, "/proc/version", err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "/proc/version:1: unknown "
		    "directive"));
	}

	unlink(link);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_grant),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
