/* SPDX-License-Identifier: ISC */
/*
 * test_fw_pfctl.c - the pf helper's pfctl calls, against a fake pfctl
 * (tests/unit/fake_pfctl.sh) that records what it is given: the order of
 * a whole life on macOS (-E, the hook check, stale anchors, load,
 * flush, -X) and on FreeBSD (-e and -d only when pf was off, and -d not
 * while another instance's anchor is loaded), the rules arriving intact
 * on stdin, and every failure reported with pfctl's own words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakepf.h"
#include "fw_pfctl.h"

#define FAKE	FAKE_PFCTL

static int
t_setup(void **state)
{
	fakepf_start("rdr-anchor \"com.apple/*\" all\nrdr-anchor \"cshuttle/*\" all",
	    "scrub-anchor \"com.apple/*\" all fragment reassemble\n"
	    "anchor \"com.apple/*\" all\nanchor \"cshuttle/*\" all");
	return 0;
}

static int
t_teardown(void **state)
{
	fakepf_stop();
	return 0;
}

#define t_log()		fakepf_log()

static bool
t_alive(uint16_t port)
{
	return port == 12301;
}

static void
test_macos_life(void **state)
{
	struct fw_pfctl	c;
	int		flushed;

	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	assert_string_equal(c.anchor, "cshuttle/12300");
	assert_int_equal(fw_pfctl_enable(&c), 0);
	assert_string_equal(c.token, "4242");
	assert_int_equal(fw_pfctl_hooked(&c), 0);
	setenv("FAKE_PFCTL_ANCHORS", "  cshuttle/12300\n  cshuttle/12301\n  cshuttle/999", 1);
	assert_int_equal(fw_pfctl_stale(&c, t_alive, &flushed), 0);
	assert_int_equal(flushed, 1);
	assert_int_equal(fw_pfctl_load(&c, "rdr pass on lo0 inet proto tcp from any to "
	    "10.0.0.0/8 -> 127.0.0.1 port 12300\n"), 0);
	assert_int_equal(fw_pfctl_release(&c), 0);
	assert_string_equal(c.token, "");
	assert_string_equal(t_log(),
	    "pfctl -E\n"
	    "pfctl -s nat\n"
	    "pfctl -s rules\n"
	    "pfctl -a cshuttle -s Anchors\n"
	    "pfctl -a cshuttle/999 -F all\n"
	    "pfctl -a cshuttle/12300 -f -\n"
	    "<<<\n"
	    "rdr pass on lo0 inet proto tcp from any to 10.0.0.0/8 -> 127.0.0.1 port 12300\n"
	    ">>>\n"
	    "pfctl -a cshuttle/12300 -F all\n"
	    "pfctl -X 4242\n");
}

/* pf was off: on, then off again at the end, unless another instance's
 * anchor is still there; pf already on: left alone. */
static void
test_freebsd_enable(void **state)
{
	struct fw_pfctl	c;

	fw_pfctl_init(&c, FAKE, FW_PFCTL_FREEBSD, 12300);
	setenv("FAKE_PFCTL_STATUS", "Disabled", 1);
	assert_int_equal(fw_pfctl_enable(&c), 0);
	assert_true(c.enabled_here);
	assert_int_equal(fw_pfctl_release(&c), 0);
	assert_string_equal(t_log(),
	    "pfctl -s info\npfctl -e\n"
	    "pfctl -a cshuttle/12300 -F all\npfctl -a cshuttle -s Anchors\npfctl -d\n");

	fakepf_clear();
	assert_int_equal(fw_pfctl_enable(&c), 0);
	setenv("FAKE_PFCTL_ANCHORS", "  cshuttle/12301", 1);
	assert_int_equal(fw_pfctl_release(&c), 0);
	assert_string_equal(t_log(),
	    "pfctl -s info\npfctl -e\n"
	    "pfctl -a cshuttle/12300 -F all\npfctl -a cshuttle -s Anchors\n");

	fakepf_clear();
	setenv("FAKE_PFCTL_STATUS", "Enabled", 1);
	assert_int_equal(fw_pfctl_enable(&c), 0);
	assert_false(c.enabled_here);
	assert_int_equal(fw_pfctl_release(&c), 0);
	assert_string_equal(t_log(), "pfctl -s info\npfctl -a cshuttle/12300 -F all\n");
}

/* The main ruleset without cshuttle's anchors: the error names the lines
 * to add; nothing is loaded behind the user's back. */
static void
test_not_hooked(void **state)
{
	struct fw_pfctl	c;

	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	setenv("FAKE_PFCTL_NAT", "rdr-anchor \"com.apple/*\" all", 1);
	setenv("FAKE_PFCTL_RULES", "anchor \"com.apple/*\" all", 1);
	assert_int_equal(fw_pfctl_hooked(&c), -1);
	assert_non_null(strstr(c.err, "'rdr-anchor \"cshuttle/*\"' and 'anchor \"cshuttle/*\"'"));
	assert_non_null(strstr(c.err, "/etc/pf.conf"));
	setenv("FAKE_PFCTL_NAT", "rdr-anchor \"cshuttle/*\" all", 1);
	assert_int_equal(fw_pfctl_hooked(&c), -1);
	assert_null(strstr(c.err, "'rdr-anchor"));
	assert_non_null(strstr(c.err, "'anchor \"cshuttle/*\"'"));
	assert_null(strstr(t_log(), "-f -"));
}

/* pfctl refuses the rules: its own message, the command, the status. */
static void
test_load_fails(void **state)
{
	struct fw_pfctl	c;

	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	setenv("FAKE_PFCTL_FAIL", "-a cshuttle/12300 -f -", 1);
	setenv("FAKE_PFCTL_FAIL_MSG", "stdin:3: syntax error", 1);
	assert_int_equal(fw_pfctl_load(&c, "bad\n"), -1);
	assert_string_equal(c.err, "pfctl -a cshuttle/12300 -f -: exited with status 1: "
	    "pfctl: stdin:3: syntax error");
}

/* A failing step does not stop the others at release; the first failure
 * is the one reported. */
static void
test_release_goes_on(void **state)
{
	struct fw_pfctl	c;

	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	assert_int_equal(fw_pfctl_enable(&c), 0);
	setenv("FAKE_PFCTL_FAIL", "-a cshuttle/12300 -F all", 1);
	setenv("FAKE_PFCTL_FAIL_MSG", "DIOCRCLRTABLES: Operation not permitted", 1);
	assert_int_equal(fw_pfctl_release(&c), -1);
	assert_non_null(strstr(c.err, "pfctl -a cshuttle/12300 -F all"));
	assert_non_null(strstr(c.err, "Operation not permitted"));
	assert_non_null(strstr(t_log(), "pfctl -X 4242\n"));
}

/* No token in -E's answer, and no pfctl at all: errors, not a crash. */
static void
test_enable_errors(void **state)
{
	struct fw_pfctl	c;

	fw_pfctl_init(&c, "/nonexistent/pfctl", FW_PFCTL_MACOS, 12300);
	assert_int_equal(fw_pfctl_enable(&c), -1);
	assert_non_null(strstr(c.err, "No such file"));
	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	setenv("FAKE_PFCTL_FAIL", "-E", 1);
	setenv("FAKE_PFCTL_FAIL_MSG", "/dev/pf: Permission denied", 1);
	assert_int_equal(fw_pfctl_enable(&c), -1);
	assert_non_null(strstr(c.err, "Permission denied"));
	assert_string_equal(c.token, "");
}

/* A ruleset far larger than a pipe arrives whole. */
static void
test_large_ruleset(void **state)
{
	struct fw_pfctl	c;
	char		*rules, *log;
	size_t		 i, n = 4000, off = 0;

	assert_non_null(rules = malloc(n * 100));
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(rules + off, "pass out quick inet proto tcp to 10.%zu.%zu.0/24\n",
		    i / 256, i % 256);
	fw_pfctl_init(&c, FAKE, FW_PFCTL_MACOS, 12300);
	assert_int_equal(fw_pfctl_load(&c, rules), 0);
	log = t_log();
	assert_non_null(strstr(log, rules));
	free(rules);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_macos_life, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_freebsd_enable, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_not_hooked, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_load_fails, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_release_goes_on, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_enable_errors, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_large_ruleset, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
