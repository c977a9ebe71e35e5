/* SPDX-License-Identifier: ISC */
/*
 * test_fw_pf.c - the pf backend's rules for a table of configurations,
 * compared with golden files (tests/golden/pf/NAME.conf) written against
 * pf.conf(5); tests/golden/pf/README.md explains each one.  A difference
 * fails the test and shows both texts.  CSHUTTLE_GOLDEN_UPDATE=1 writes
 * the files instead (then read them, and explain what changed).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fw.h"
#include "fw_pf.h"
#include "fw_plan.h"

struct fx {
	struct subnet		v[16];
	struct subnet_list	list;
	struct fw_config	cfg;
};

static void
fx_init(struct fx *f, bool v4, bool v6)
{
	memset(f, 0, sizeof(*f));
	f->list.v = f->v;
	f->list.cap = 16;
	f->cfg.subnets = &f->list;
	f->cfg.port = 12300;
	f->cfg.ipv4 = v4;
	f->cfg.ipv6 = v6;
	/* The sudo mode: the caller's own sockets. */
	f->cfg.has_user = true;
	f->cfg.user = 1000;
	if (v4)
		assert_int_equal(addr_parse(&f->cfg.listen[f->cfg.nlisten++], "127.0.0.1",
		    (size_t)-1, 0, 12300), 0);
	if (v6)
		assert_int_equal(addr_parse(&f->cfg.listen[f->cfg.nlisten++], "::1",
		    (size_t)-1, 0, 12300), 0);
	/* The SSH server, always exempt. */
	assert_int_equal(addr_parse(&f->cfg.exempt[f->cfg.nexempt++], "192.0.2.1",
	    (size_t)-1, 0, 22), 0);
}

static void
fx_net(struct fx *f, bool exclude, const char *a, int prefix, int lo, int hi)
{
	struct subnet	*s = &f->v[f->list.n++];

	memset(s, 0, sizeof(*s));
	s->family = strchr(a, ':') != NULL ? 6 : 4;
	assert_int_equal(inet_pton(s->family == 6 ? AF_INET6 : AF_INET, a, s->addr), 1);
	s->prefix = (uint8_t)prefix;
	s->port_lo = (uint16_t)lo;
	s->port_hi = (uint16_t)hi;
	s->exclude = exclude;
}

static void
fx_dns(struct fx *f, const char *server, const char *listener)
{
	int	i = f->cfg.ndns++;

	/* The helper's view: the nameserver, with the port of its local
	 * listener pair. */
	assert_int_equal(addr_parse(&f->cfg.dns_listen[i], listener, (size_t)-1,
	    ADDR_P_PORT, 0), 0);
	assert_int_equal(addr_parse(&f->cfg.dns[i], server, (size_t)-1, 0,
	    f->cfg.dns_listen[i].port), 0);
}

static void
fx_golden(struct fx *f, const char *name)
{
	char	 path[512], *text, *want;
	FILE	*fp;
	long	 n;

	snprintf(path, sizeof(path), "%s/tests/golden/pf/%s.conf", CSHUTTLE_SOURCE_DIR, name);
	assert_int_equal(fw_pf_render(&f->cfg, &text), 0);
	if (getenv("CSHUTTLE_GOLDEN_UPDATE") != NULL) {
		assert_non_null(fp = fopen(path, "w"));
		fputs(text, fp);
		assert_int_equal(fclose(fp), 0);
	}
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: missing; the rules are:\n%s", path, text);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	assert_non_null(want = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(want, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	if (strcmp(text, want) != 0)
		fail_msg("%s differs.\n--- want\n%s--- got\n%s", path, want, text);
	free(want);
	free(text);
}

/* -l 192.168.1.5 --allow-from 192.168.1.0/24, IPv4. */
static void
fx_lan(struct fx *f)
{
	fx_init(f, true, false);
	assert_int_equal(addr_parse(&f->cfg.listen[f->cfg.nlisten++], "192.168.1.5",
	    (size_t)-1, 0, 12300), 0);
	f->cfg.prerouting = true;
	f->cfg.allow[0].family = 4;
	f->cfg.allow[0].prefix = 24;
	assert_int_equal(inet_pton(AF_INET, "192.168.1.0", f->cfg.allow[0].addr), 1);
	f->cfg.nallow = 1;
}

/* Two subnets, IPv4 only: the route-to and rdr pairs. */
static void
test_subnets(void **state)
{
	struct fx	f;

	fx_init(&f, true, false);
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_net(&f, false, "172.16.0.0", 12, 0, 0);
	fx_golden(&f, "subnets");
}

/* Excludes and ports: the planner's precedence, most specific first. */
static void
test_excludes_ports(void **state)
{
	struct fx	f;

	fx_init(&f, true, false);
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_net(&f, true, "10.1.0.0", 16, 0, 0);
	fx_net(&f, false, "10.1.2.0", 24, 0, 0);
	fx_net(&f, false, "192.168.7.0", 24, 8000, 8999);
	fx_net(&f, true, "192.168.7.0", 24, 8080, 8080);
	fx_golden(&f, "excludes_ports");
}

/* Both families, an IPv6 exclude. */
static void
test_ipv6(void **state)
{
	struct fx	f;

	fx_init(&f, true, true);
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_net(&f, false, "2001:db8::", 32, 0, 0);
	fx_net(&f, true, "2001:db8:1::", 48, 0, 0);
	fx_golden(&f, "ipv6");
}

/* --dns: a nameserver on the LAN and one on this host (127.0.0.53). */
static void
test_dns(void **state)
{
	struct fx	f;

	fx_init(&f, true, false);
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_dns(&f, "192.168.1.1", "127.0.0.1:12299");
	fx_dns(&f, "127.0.0.53", "127.0.0.1:12298");
	fx_golden(&f, "dns");
}

/* 0/0 with leak protection, IPv4 only: IPv6 and other UDP blocked. */
static void
test_leaks(void **state)
{
	struct fx	f;

	fx_init(&f, true, false);
	fx_net(&f, false, "0.0.0.0", 0, 0, 0);
	fx_net(&f, true, "192.168.1.0", 24, 0, 0);
	fx_dns(&f, "192.168.1.1", "127.0.0.1:12299");
	f.cfg.block_leaks = true;
	fx_golden(&f, "leaks");
}

/* Root, every local user (no user match). */
static void
test_host_wide(void **state)
{
	struct fx	f;

	fx_init(&f, true, false);
	f.cfg.has_user = false;
	f.cfg.host_wide = true;
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_golden(&f, "host_wide");
}

/* A LAN gateway: -l 192.168.1.5 --allow-from 192.168.1.0/24. */
static void
test_lan(void **state)
{
	struct fx	f;

	fx_lan(&f);
	fx_net(&f, false, "10.0.0.0", 8, 0, 0);
	fx_golden(&f, "lan");
}

/* A LAN gateway with leak protection: the sources' blocks cover only
 * what they send on (to ! self), nothing passes them to this host, and
 * the listeners' input rules come before everything else. */
static void
test_lan_leaks(void **state)
{
	struct fx	f;

	fx_lan(&f);
	fx_net(&f, false, "0.0.0.0", 0, 0, 0);
	f.cfg.block_leaks = true;
	fx_golden(&f, "lan_leaks");
}

static void
test_anchor_name(void **state)
{
	char	buf[32];

	assert_string_equal(fw_pf_anchor(12300, buf, sizeof(buf)), "cshuttle/12300");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_excludes_ports),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_leaks),
		cmocka_unit_test(test_host_wide),
		cmocka_unit_test(test_lan),
		cmocka_unit_test(test_lan_leaks),
		cmocka_unit_test(test_anchor_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
