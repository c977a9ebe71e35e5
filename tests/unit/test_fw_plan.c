/*
 * test_fw_plan.c - ordering of the redirect rules (firewall/fw_plan.c).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw.h"
#include "fw_plan.h"

struct fixture {
	struct subnet		v[64];
	struct subnet_list	list;
	struct fw_config	cfg;
	struct fw_plan		plan;
};

static struct fixture *
fx_new(bool v4, bool v6)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->list.v = f->v;
	f->list.cap = 64;
	f->cfg.port = 12300;
	f->cfg.ipv4 = v4;
	f->cfg.ipv6 = v6;
	f->cfg.subnets = &f->list;
	return f;
}

static void
fx_free(struct fixture *f)
{
	fw_plan_free(&f->plan);
	free(f);
}

static void
fx_subnet(struct fixture *f, bool exclude, const char *addr, int prefix,
    int lo, int hi)
{
	struct subnet *s = &f->v[f->list.n++];
	uint8_t family = strchr(addr, ':') != NULL ? 6 : 4;

	memset(s, 0, sizeof(*s));
	s->family = family;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr,
	    s->addr), 1);
	s->prefix = (uint8_t)prefix;
	s->port_lo = (uint16_t)lo;
	s->port_hi = (uint16_t)hi;
	s->exclude = exclude;
}

static void
fx_exempt(struct fixture *f, const char *addr, int port)
{
	struct fw_exempt *e = &f->cfg.exempt[f->cfg.nexempt++];
	uint8_t family = strchr(addr, ':') != NULL ? 6 : 4;

	e->family = family;
	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, addr,
	    e->addr), 1);
	e->port = (uint16_t)port;
}

/* Compare the plan with the log text of each rule, in order. */
static void
fx_expect(struct fixture *f, const char **want, size_t n)
{
	char buf[128];
	size_t i;

	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	for (i = 0; i < f->plan.nrules && i < n; i++) {
		fw_rule_format(&f->plan.rules[i], f->plan.port, buf,
		    sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(f->plan.nrules, n);
}

#define EXPECT(f, ...) do {						\
	const char *want_[] = { __VA_ARGS__ };				\
	fx_expect((f), want_, sizeof(want_) / sizeof(want_[0]));	\
} while (0)

static void
test_exclude_inside_include(void **state)
{
	struct fixture *f = fx_new(true, false);

	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, true, "10.20.5.0", 24, 0, 65535);
	EXPECT(f,
	    "return ipv4 tcp to local addresses",
	    "return 10.20.5.0/24",
	    "redirect 10.0.0.0/8 -> :12300");
	assert_int_equal(f->plan.rules[0].match, FW_MATCH_LOCAL);
	assert_int_equal(f->plan.rules[1].verdict, FW_VERDICT_RETURN);
	assert_int_equal(f->plan.rules[2].verdict, FW_VERDICT_REDIRECT);
	fx_free(f);
}

static void
test_port_ranges(void **state)
{
	struct fixture *f = fx_new(true, false);

	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, false, "10.0.0.0", 8, 8000, 9000);
	fx_subnet(f, true, "10.0.0.0", 8, 8080, 8080);
	fx_subnet(f, false, "192.168.0.0", 16, 443, 443);
	EXPECT(f,
	    "return ipv4 tcp to local addresses",
	    "redirect 192.168.0.0/16 port 443 -> :12300",
	    "return 10.0.0.0/8 port 8080",
	    "redirect 10.0.0.0/8 ports 8000-9000 -> :12300",
	    "redirect 10.0.0.0/8 -> :12300");
	assert_int_equal(f->plan.rules[3].port_lo, 8000);
	assert_int_equal(f->plan.rules[3].port_hi, 9000);
	fx_free(f);
}

static void
test_everything_both_families(void **state)
{
	struct fixture *f = fx_new(true, true);

	fx_subnet(f, false, "::", 0, 0, 65535);
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_exempt(f, "192.0.2.1", 22);
	fx_exempt(f, "2001:db8::1", 2222);
	EXPECT(f,
	    "return ipv4 tcp to local addresses",
	    "return 192.0.2.1 port 22 (exempt)",
	    "redirect 0.0.0.0/0 -> :12300",
	    "return ipv6 tcp to local addresses",
	    "return 2001:db8::1 port 2222 (exempt)",
	    "redirect ::/0 -> :12300");
	assert_int_equal(f->plan.rules[2].prefix, 0);
	assert_int_equal(f->plan.rules[5].family, 6);
	fx_free(f);
}

static void
test_equal_specificity(void **state)
{
	struct fixture *f = fx_new(true, true);

	fx_subnet(f, false, "10.2.0.0", 16, 0, 65535);
	fx_subnet(f, false, "10.1.0.0", 16, 0, 65535);
	fx_subnet(f, true, "10.1.0.0", 16, 0, 65535);
	fx_subnet(f, false, "fd00:1::", 32, 80, 80);
	fx_subnet(f, true, "fd00:2::", 32, 443, 443);
	EXPECT(f,
	    "return ipv4 tcp to local addresses",
	    "return 10.1.0.0/16",
	    "redirect 10.2.0.0/16 -> :12300",	/* input order kept */
	    "redirect 10.1.0.0/16 -> :12300",
	    "return ipv6 tcp to local addresses",
	    "return fd00:2::/32 port 443",
	    "redirect fd00:1::/32 port 80 -> :12300");
	fx_free(f);
}

static void
test_family_disabled(void **state)
{
	struct fixture *f = fx_new(false, true);

	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, false, "fd00::", 8, 0, 65535);
	fx_exempt(f, "192.0.2.1", 22);
	EXPECT(f,
	    "return ipv6 tcp to local addresses",
	    "redirect fd00::/8 -> :12300");
	fx_free(f);

	f = fx_new(false, false);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	assert_int_equal(f->plan.nrules, 0);
	fx_free(f);
}

static void
test_normalise(void **state)
{
	struct fixture *f = fx_new(true, false);

	/* host bits are dropped, 0-0 means every port, exempt port 0 too */
	fx_subnet(f, false, "10.1.2.3", 12, 0, 0);
	fx_exempt(f, "192.0.2.9", 0);
	f->cfg.prerouting = true;
	EXPECT(f,
	    "return ipv4 tcp to local addresses",
	    "return 192.0.2.9 (exempt)",
	    "redirect 10.0.0.0/12 -> :12300");
	assert_int_equal(f->plan.rules[2].port_lo, 0);
	assert_int_equal(f->plan.rules[2].port_hi, 65535);
	assert_true(f->plan.prerouting);
	assert_int_equal(f->plan.port, 12300);
	fx_free(f);
}

static void
test_invalid(void **state)
{
	struct fixture *f;

	f = fx_new(true, false);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	f->v[0].prefix = 33;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	assert_int_equal(f->plan.nrules, 0);
	fx_free(f);

	f = fx_new(true, false);
	fx_subnet(f, false, "10.0.0.0", 8, 9000, 8000);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	f->v[0].family = 5;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	f->cfg.port = 0;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	fx_exempt(f, "192.0.2.1", 22);
	f->cfg.exempt[0].family = 0;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	f->cfg.nexempt = FW_MAX_EXEMPT + 1;	/* rejected before being read */
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_TOOMANY);
	fx_free(f);

	f = fx_new(true, false);
	f->list.n = FW_MAX_SUBNETS + 1;	/* rejected before being read */
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_TOOMANY);
	fx_free(f);

	assert_string_equal(fw_strerror(FW_E_TOOMANY),
	    "too many subnets or exempt destinations");
}

static void
test_helpers(void **state)
{
	uint8_t a[16] = { 10, 16, 0, 0 };

	assert_true(fw_addr_is_network(4, a, 12));
	assert_false(fw_addr_is_network(4, a, 11));
	assert_true(fw_addr_is_network(4, a, 32));
	assert_false(fw_addr_is_network(4, a, 33));
	assert_false(fw_addr_is_network(7, a, 8));
	assert_true(fw_ports_all(0, 65535));
	assert_true(fw_ports_all(0, 0));
	assert_false(fw_ports_all(1, 65535));
	assert_int_equal(fw_family_maxprefix(6), 128);
	assert_int_equal(fw_family_maxprefix(0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclude_inside_include),
		cmocka_unit_test(test_port_ranges),
		cmocka_unit_test(test_everything_both_families),
		cmocka_unit_test(test_equal_specificity),
		cmocka_unit_test(test_family_disabled),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
