/* SPDX-License-Identifier: ISC */
/*
 * test_subnet.c - subnet specifications and the name resolver under them.
 *
 * Host names get fixed answers through dns_resolve_set_hook(); the only
 * real lookups are of "localhost" (answered from /etc/hosts) and of
 * numeric addresses, which never leave the process.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "dns_resolve.h"
#include "subnet.h"

static int hook_calls;
static int hook_family;

/* multi.test: two IPv4 and one IPv6 address; anything else: not found. */
static int
fake_resolve(const char *name, int family, int timeout_ms,
    struct addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	hook_calls++;
	hook_family = family;
	*n = 0;
	if (strcmp(name, "multi.test") == 0 && max >= 3) {
		memset(out, 0, 3 * sizeof(*out));
		out[0].family = 4;
		inet_pton(AF_INET, "192.0.2.1", out[0].bytes);
		out[1].family = 4;
		inet_pton(AF_INET, "192.0.2.2", out[1].bytes);
		out[2].family = 6;
		inet_pton(AF_INET6, "2001:db8::1", out[2].bytes);
		*n = 3;
		return 0;
	}
	snprintf(err, errlen, "Domain name not found");
	return DNS_E_NOTFOUND;
}

static int
setup_hook(void **state)
{
	hook_calls = 0;
	hook_family = -1;
	dns_resolve_set_hook(fake_resolve);
	return 0;
}

static int
teardown_hook(void **state)
{
	dns_resolve_set_hook(NULL);
	return 0;
}

/* Parse one spec that must give exactly one subnet, and format it. */
static void
parse_one(const char *spec, const char *want)
{
	struct subnet_list l = { 0 };
	char err[256], buf[128];
	int r;

	r = subnet_parse(&l, spec, false, false, err, sizeof(err));
	if (r != 0)
		fail_msg("%s: %d %s", spec, r, err);
	assert_int_equal(l.n, 1);
	assert_string_equal(subnet_format(&l.v[0], buf, sizeof(buf)), want);
	subnet_list_free(&l);
}

static void
test_ipv4_forms(void **state)
{
	parse_one("10.0.0.0/8", "10.0.0.0/8");
	parse_one("192.168.1.5", "192.168.1.5/32");
	parse_one("192.168.1.0/24", "192.168.1.0/24");
	parse_one("1.2.3.4:22", "1.2.3.4/32:22");
	parse_one("10.0.0.0/8:8000-9000", "10.0.0.0/8:8000-9000");
	parse_one("0.0.0.0/0", "0.0.0.0/0");
}

/* The ip-route reading of abbreviations (sshuttle gets 10/8 wrong). */
static void
test_ipv4_abbreviated(void **state)
{
	struct subnet_list l = { 0 };
	char err[256];

	parse_one("10/8", "10.0.0.0/8");
	parse_one("10.1/16", "10.1.0.0/16");
	parse_one("172.16/12", "172.16.0.0/12");
	parse_one("192.168.7/24", "192.168.7.0/24");
	parse_one("0/0", "0.0.0.0/0");
	parse_one("10/8:443", "10.0.0.0/8:443");

	assert_int_equal(subnet_parse(&l, "10/8", false, false, err,
	    sizeof(err)), 0);
	assert_int_equal(l.v[0].family, 4);
	assert_int_equal(l.v[0].prefix, 8);
	assert_int_equal(l.v[0].addr[0], 10);
	assert_int_equal(l.v[0].addr[3], 0);
	assert_int_equal(l.v[0].port_lo, 0);
	assert_int_equal(l.v[0].port_hi, 65535);
	assert_false(l.v[0].exclude);
	subnet_list_free(&l);
}

static void
test_ipv6_forms(void **state)
{
	parse_one("::/0", "::/0");
	parse_one("fd00::/64", "fd00::/64");
	parse_one("fd00::1", "fd00::1/128");
	parse_one("2001:db8:1:2::/48", "2001:db8:1::/48");	/* host bits */
	parse_one("[fd00::1]:443", "[fd00::1/128]:443");
	parse_one("[fd00::/64]:80-90", "[fd00::/64]:80-90");
	parse_one("[::1]", "::1/128");
	parse_one("::ffff:10.0.0.1", "::ffff:10.0.0.1/128");
}

/* Host bits are cleared, not refused. */
static void
test_host_bits_cleared(void **state)
{
	struct subnet_list l = { 0 };
	char err[256];

	parse_one("10.1.2.3/8", "10.0.0.0/8");
	parse_one("192.168.1.77/26", "192.168.1.64/26");
	parse_one("fd00::1/64", "fd00::/64");
	parse_one("fd00:ffff::/17", "fd00:8000::/17");
	assert_int_equal(subnet_parse(&l, "10.255.255.255/9", false, false,
	    err, sizeof(err)), 0);
	assert_memory_equal(l.v[0].addr, "\x0a\x80\x00\x00", 4);
	subnet_list_free(&l);
}

static void
test_exclude_flag(void **state)
{
	struct subnet_list l = { 0 };
	char err[256];

	assert_int_equal(subnet_parse(&l, "10/8", true, false, err,
	    sizeof(err)), 0);
	assert_int_equal(subnet_parse(&l, "::/0", false, false, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.v[0].exclude);
	assert_false(l.v[1].exclude);
	assert_int_equal(l.v[1].family, 6);
	assert_int_equal(l.v[1].prefix, 0);
	subnet_list_free(&l);
}

struct bad_case {
	const char	*spec;
	int		 code;
	const char	*msg;		/* expected substring */
};

static void
test_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "", SUBNET_E_SYNTAX, "empty subnet" },
		{ "10.0.0.0/33", SUBNET_E_PREFIX,
		    "bad subnet \"10.0.0.0/33\": prefix length must be 0-32" },
		{ "::/129", SUBNET_E_PREFIX, "prefix length must be 0-128" },
		{ "[fd00::/200]:80", SUBNET_E_PREFIX, "0-128" },
		{ "10.0.0.0/", SUBNET_E_PREFIX, "missing prefix length" },
		{ "10.0.0.0/8x", SUBNET_E_PREFIX, "prefix length must be" },
		{ "10.0.0.0/-1", SUBNET_E_PREFIX, "prefix length must be" },
		{ "10.0.0.0/8/9", SUBNET_E_PREFIX, "prefix length must be" },
		{ "10", SUBNET_E_SYNTAX, "incomplete IPv4 address" },
		{ "10.1.2", SUBNET_E_SYNTAX, "incomplete IPv4 address" },
		{ "256.0.0.0/8", SUBNET_E_SYNTAX, "not an IPv4 address" },
		{ "1.2.3.4.5", SUBNET_E_SYNTAX, "not an IPv4 address" },
		{ "1..2.3/8", SUBNET_E_SYNTAX, "not an IPv4 address" },
		{ "010.0.0.0/8", SUBNET_E_SYNTAX, "not an IPv4 address" },
		{ "/8", SUBNET_E_SYNTAX, "missing address" },
		{ "10.0.0.0/8:", SUBNET_E_PORT, "missing port" },
		{ "10.0.0.0/8:65536", SUBNET_E_PORT, "port must be 1-65535" },
		{ "10.0.0.0/8:0", SUBNET_E_PORT, "port must be 1-65535" },
		{ "10.0.0.0/8:1-70000", SUBNET_E_PORT, "port must be 1-65535" },
		{ "10.0.0.0/8:9000-8000", SUBNET_E_PORT, "low > high" },
		{ "10.0.0.0/8:80x", SUBNET_E_PORT, "bad port" },
		{ "10.0.0.0/8:80-", SUBNET_E_PORT, "bad port" },
		{ "10.0.0.0/8:-80", SUBNET_E_PORT, "bad port" },
		{ "10.0.0.0/8:1-2-3", SUBNET_E_PORT, "bad port" },
		{ "10.0.0.0/8:9999999999", SUBNET_E_PORT, "bad port" },
		{ "10.0.0.0/8 ", SUBNET_E_SYNTAX, "space" },
		{ " 10.0.0.0/8", SUBNET_E_SYNTAX, "space" },
		{ "10.0.0.0/8\n", SUBNET_E_SYNTAX, "control" },
		{ "[fd00::1]x", SUBNET_E_SYNTAX, "after ']'" },
		{ "[fd00::1", SUBNET_E_SYNTAX, "missing ']'" },
		{ "[fd00::1]:", SUBNET_E_PORT, "missing port" },
		{ "[10.0.0.1]:80", SUBNET_E_SYNTAX, "only hold an IPv6" },
		{ "[]:80", SUBNET_E_SYNTAX, "missing address" },
		{ "fd00::zz", SUBNET_E_SYNTAX, "not an IPv6 address" },
		{ "fd00:::1/64", SUBNET_E_SYNTAX, "not an IPv6 address" },
		{ "example.lan", SUBNET_E_SYNTAX, "host names are not allowed" },
		{ "-foo", SUBNET_E_SYNTAX, "not an address or host name" },
		{ "a..b", SUBNET_E_SYNTAX, "not an address or host name" },
		{ "bad!name", SUBNET_E_SYNTAX, "not an address or host name" },
	};
	struct subnet_list l = { 0 };
	struct subnet keep;
	char err[256];
	size_t i;
	int r;

	/* A failed parse leaves the list as it was. */
	assert_int_equal(subnet_parse(&l, "10/8", false, false, err,
	    sizeof(err)), 0);
	keep = l.v[0];
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = subnet_parse(&l, cases[i].spec, false, false, err,
		    sizeof(err));
		if (r != cases[i].code || strstr(err, cases[i].msg) == NULL)
			fail_msg("\"%s\": got %d \"%s\", want %d \"%s\"",
			    cases[i].spec, r, err, cases[i].code, cases[i].msg);
		/* One line, naming the input. */
		assert_null(strchr(err, '\n'));
		assert_non_null(strstr(err, "bad subnet \""));
		assert_int_equal(l.n, 1);
	}
	assert_memory_equal(&l.v[0], &keep, sizeof(keep));
	subnet_list_free(&l);
}

/* A hostile spec still gives one printable line. */
static void
test_error_message_sanitised(void **state)
{
	struct subnet_list l = { 0 };
	char err[256], spec[600];

	assert_int_equal(subnet_parse(&l, "1\x1b[2J/8", false, false, err,
	    sizeof(err)), SUBNET_E_SYNTAX);
	assert_null(strchr(err, '\x1b'));
	memset(spec, '1', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	assert_int_equal(subnet_parse(&l, spec, false, false, err,
	    sizeof(err)), SUBNET_E_SYNTAX);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(l.n, 0);
	/* err may be NULL. */
	assert_int_equal(subnet_parse(&l, "10.0.0.0/40", false, false, NULL,
	    0), SUBNET_E_PREFIX);
	subnet_list_free(&l);
}

/*
 * What a caller that resolves does: parse into a list of its own,
 * resolve the names through dns_resolve() (here answered by the hook),
 * and append the result only when both worked, so that on error the
 * list is unchanged.
 */
static int
resolve_cb(void *arg, const char *name, struct addr *out, size_t max,
    size_t *n, char *why, size_t whylen)
{
	int	r;

	r = dns_resolve(name, AF_UNSPEC, DNS_RESOLVE_TIMEOUT_MS, out, max, n, why, whylen);
	if (r == DNS_E_NOMEM)
		return SUBNET_E_NOMEM;
	return r != 0 ? -1 : 0;
}

static int
parse_resolve(struct subnet_list *l, const char *spec, bool exclude, char *err,
    size_t errlen)
{
	struct subnet_list	tmp = { 0 };
	size_t			i;
	int			r;

	if ((r = subnet_parse(&tmp, spec, exclude, true, err, errlen)) == 0 &&
	    (r = subnet_list_resolve(&tmp, resolve_cb, NULL, err, errlen)) == 0)
		for (i = 0; i < tmp.n && r == 0; i++)
			r = subnet_list_add(l, &tmp.v[i]);
	subnet_list_free(&tmp);
	return r;
}

static void
test_names(void **state)
{
	struct subnet_list l = { 0 };
	char err[256], buf[128];

	assert_int_equal(parse_resolve(&l, "multi.test", true, err,
	    sizeof(err)), 0);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(hook_family, AF_UNSPEC);	/* A and AAAA */
	assert_int_equal(l.n, 3);
	assert_string_equal(subnet_format(&l.v[0], buf, sizeof(buf)),
	    "192.0.2.1/32");
	assert_string_equal(subnet_format(&l.v[1], buf, sizeof(buf)),
	    "192.0.2.2/32");
	assert_string_equal(subnet_format(&l.v[2], buf, sizeof(buf)),
	    "2001:db8::1/128");
	assert_true(l.v[0].exclude && l.v[1].exclude && l.v[2].exclude);

	assert_int_equal(parse_resolve(&l, "multi.test:80-81", false, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(subnet_format(&l.v[5], buf, sizeof(buf)),
	    "[2001:db8::1/128]:80-81");
	assert_int_equal(l.v[3].port_lo, 80);
	assert_int_equal(l.v[3].port_hi, 81);
	assert_false(l.v[3].exclude);
	subnet_list_free(&l);
}

static void
test_name_errors(void **state)
{
	struct subnet_list l = { 0 };
	char err[256];

	assert_int_equal(parse_resolve(&l, "foo.invalid", false, err,
	    sizeof(err)), SUBNET_E_RESOLVE);
	assert_string_equal(err,
	    "cannot resolve host \"foo.invalid\": Domain name not found");
	assert_int_equal(l.n, 0);
	/* Syntax and port errors are found before any lookup. */
	assert_int_equal(parse_resolve(&l, "multi.test:0", false, err,
	    sizeof(err)), SUBNET_E_PORT);
	assert_int_equal(parse_resolve(&l, "multi.test/24", false, err,
	    sizeof(err)), SUBNET_E_PREFIX);
	assert_non_null(strstr(err, "host name takes no prefix"));
	assert_int_equal(hook_calls, 1);
	assert_int_equal(l.n, 0);
}

/* The real resolver, on /etc/hosts. */
static void
test_localhost(void **state)
{
	struct subnet_list l = { 0 };
	char err[256], buf[128];
	size_t i;
	bool found = false;

	assert_int_equal(parse_resolve(&l, "localhost:8080", false, err,
	    sizeof(err)), 0);
	assert_true(l.n >= 1);
	for (i = 0; i < l.n; i++) {
		subnet_format(&l.v[i], buf, sizeof(buf));
		if (strcmp(buf, "127.0.0.1/32:8080") == 0)
			found = true;
	}
	assert_true(found);
	subnet_list_free(&l);
}

static void
test_contains(void **state)
{
	struct subnet_list l = { 0 };
	uint8_t a4[4], a6[16];
	char err[256];

	assert_int_equal(subnet_parse(&l, "172.16/12", false, false, err,
	    sizeof(err)), 0);
	assert_int_equal(subnet_parse(&l, "0/0", false, false, err,
	    sizeof(err)), 0);
	assert_int_equal(subnet_parse(&l, "fd00::/8", false, false, err,
	    sizeof(err)), 0);
	inet_pton(AF_INET, "172.31.255.255", a4);
	assert_true(subnet_contains(&l.v[0], 4, a4));
	inet_pton(AF_INET, "172.32.0.0", a4);
	assert_false(subnet_contains(&l.v[0], 4, a4));
	inet_pton(AF_INET, "172.15.255.255", a4);
	assert_false(subnet_contains(&l.v[0], 4, a4));
	assert_true(subnet_contains(&l.v[1], 4, a4));
	inet_pton(AF_INET6, "fdff::1", a6);
	assert_true(subnet_contains(&l.v[2], 6, a6));
	assert_false(subnet_contains(&l.v[1], 6, a6));	/* family */
	inet_pton(AF_INET6, "fe00::1", a6);
	assert_false(subnet_contains(&l.v[2], 6, a6));
	subnet_list_free(&l);
}

static void
test_list_growth(void **state)
{
	struct subnet_list l = { 0 };
	struct subnet s;
	int i;

	memset(&s, 0, sizeof(s));
	s.family = 4;
	s.prefix = 32;
	for (i = 0; i < 1000; i++) {
		s.addr[3] = (uint8_t)i;
		s.addr[2] = (uint8_t)(i >> 8);
		assert_int_equal(subnet_list_add(&l, &s), 0);
	}
	assert_int_equal(l.n, 1000);
	assert_int_equal(l.v[999].addr[3], 999 & 0xff);
	assert_int_equal(l.v[999].addr[2], 999 >> 8);
	subnet_list_free(&l);
	assert_null(l.v);
	assert_int_equal(l.n, 0);
	subnet_list_free(&l);	/* twice is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_forms),
		cmocka_unit_test(test_ipv4_abbreviated),
		cmocka_unit_test(test_ipv6_forms),
		cmocka_unit_test(test_host_bits_cleared),
		cmocka_unit_test(test_exclude_flag),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_message_sanitised),
		cmocka_unit_test_setup_teardown(test_names, setup_hook,
		    teardown_hook),
		cmocka_unit_test_setup_teardown(test_name_errors, setup_hook,
		    teardown_hook),
		cmocka_unit_test(test_localhost),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_list_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
