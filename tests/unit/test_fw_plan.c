/* SPDX-License-Identifier: ISC */
/*
 * test_fw_plan.c - ordering of the redirect rules and of the leak
 * protection rules (firewall/fw_plan.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw.h"
#include "fw_plan.h"

/* The rules of the nat output chain and of the leak_output chain. */
#define OUT(f)		((f)->plan.chain[FW_CHAIN_OUTPUT])
#define NOUT(f)		((f)->plan.nchain[FW_CHAIN_OUTPUT])
#define LEAK(f)		((f)->plan.chain[FW_CHAIN_LEAK_OUTPUT])
#define NLEAK(f)	((f)->plan.nchain[FW_CHAIN_LEAK_OUTPUT])

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
	struct addr *e = &f->cfg.exempt[f->cfg.nexempt++];

	assert_int_equal(addr_parse(e, addr, (size_t)-1, 0, (uint16_t)port), 0);
}

static void
fx_dns(struct fixture *f, const char *addr, int port)
{
	struct addr *d = &f->cfg.dns[f->cfg.ndns++];

	assert_int_equal(addr_parse(d, addr, (size_t)-1, 0, (uint16_t)port), 0);
}

static void
fx_allow(struct fixture *f, const char *addr, int prefix)
{
	struct fw_allow *a = &f->cfg.allow[f->cfg.nallow++];

	memset(a, 0, sizeof(*a));
	a->family = strchr(addr, ':') != NULL ? 6 : 4;
	assert_int_equal(inet_pton(a->family == 4 ? AF_INET : AF_INET6, addr,
	    a->addr), 1);
	a->prefix = (uint8_t)prefix;
}

/* A listener where the helper found one (its port is the config's). */
static void
fx_listen(struct fixture *f, const char *addr)
{
	struct addr *l = &f->cfg.listen[f->cfg.nlisten++];

	assert_int_equal(addr_parse(l, addr, (size_t)-1, 0, f->cfg.port), 0);
}

/* Compare a rule list with the log text of each rule, in order. */
static void
fx_compare(const struct fw_rule *rules, size_t nrules, uint16_t port,
    const char **want, size_t n)
{
	char buf[160];
	size_t i;

	for (i = 0; i < nrules && i < n; i++) {
		fw_rule_format(&rules[i], port, buf, sizeof(buf));
		if (strcmp(buf, want[i]) != 0)
			fail_msg("rule %zu: \"%s\", want \"%s\"", i, buf,
			    want[i]);
	}
	if (nrules != n)
		fail_msg("%zu rules, want %zu", nrules, n);
}

/* The nat rules; the plan is built here. */
static void
fx_expect(struct fixture *f, const char **want, size_t n)
{
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	fx_compare(OUT(f), NOUT(f), f->plan.port, want, n);
}

/* The filter rules of a plan already built. */
static void
fx_expect_filter(struct fixture *f, const char **want, size_t n)
{
	fx_compare(LEAK(f), NLEAK(f), f->plan.port, want, n);
}

#define MARK_RETURN	"return packets with mark 0x6373300c"

#define EXPECT(f, ...) do {						\
	const char *want_[] = { __VA_ARGS__ };				\
	fx_expect((f), want_, sizeof(want_) / sizeof(want_[0]));	\
} while (0)

/* The rules of chain ch of a plan already built. */
#define EXPECT_CHAIN(f, ch, ...) do {					\
	const char *want_[] = { __VA_ARGS__ };				\
	fx_compare((f)->plan.chain[(ch)], (f)->plan.nchain[(ch)],	\
	    (f)->plan.port, want_, sizeof(want_) / sizeof(want_[0]));	\
} while (0)

#define EXPECT_FILTER(f, ...) do {					\
	const char *want_[] = { __VA_ARGS__ };				\
	fx_expect_filter((f), want_, sizeof(want_) / sizeof(want_[0]));\
} while (0)

static void
test_exclude_inside_include(void **state)
{
	struct fixture *f = fx_new(true, false);

	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, true, "10.20.5.0", 24, 0, 65535);
	EXPECT(f, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "return 10.20.5.0/24",
	    "redirect 10.0.0.0/8 -> :12300");
	assert_int_equal(OUT(f)[0].match, FW_MATCH_MARK);
	assert_int_equal(OUT(f)[0].mark, 0x6373300c);
	assert_int_equal(OUT(f)[1].match, FW_MATCH_LOCAL);
	assert_int_equal(OUT(f)[2].verdict, FW_VERDICT_RETURN);
	assert_int_equal(OUT(f)[3].verdict, FW_VERDICT_REDIRECT);
	assert_int_equal(OUT(f)[3].to_port, 12300);
	assert_int_equal(OUT(f)[3].proto, IPPROTO_TCP);
	/* no leak protection asked for */
	assert_int_equal(NLEAK(f), 0);
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
	EXPECT(f, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "redirect 192.168.0.0/16 port 443 -> :12300",
	    "return 10.0.0.0/8 port 8080",
	    "redirect 10.0.0.0/8 ports 8000-9000 -> :12300",
	    "redirect 10.0.0.0/8 -> :12300");
	assert_int_equal(OUT(f)[4].port_lo, 8000);
	assert_int_equal(OUT(f)[4].port_hi, 9000);
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
	EXPECT(f, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "return 192.0.2.1 port 22 (exempt)",
	    "redirect 0.0.0.0/0 -> :12300",
	    "return ipv6 tcp to local addresses",
	    "return 2001:db8::1 port 2222 (exempt)",
	    "redirect ::/0 -> :12300");
	assert_int_equal(OUT(f)[3].prefix, 0);
	assert_int_equal(OUT(f)[6].family, 6);
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
	EXPECT(f, MARK_RETURN,
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
	EXPECT(f, MARK_RETURN,
	    "return ipv6 tcp to local addresses",
	    "redirect fd00::/8 -> :12300");
	fx_free(f);

	f = fx_new(false, false);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	EXPECT(f, MARK_RETURN);
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
	EXPECT(f, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "return 192.0.2.9 (exempt)",
	    "redirect 10.0.0.0/12 -> :12300");
	assert_int_equal(OUT(f)[3].port_lo, 0);
	assert_int_equal(OUT(f)[3].port_hi, 65535);
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
	assert_int_equal(NOUT(f), 0);
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

	f = fx_new(true, false);
	f->cfg.ndns = FW_MAX_DNS + 1;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_TOOMANY);
	fx_free(f);

	f = fx_new(true, false);
	f->cfg.ndns = -1;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	/* a nameserver: no port, a bad family, the same address twice */
	f = fx_new(true, false);
	fx_dns(f, "192.0.2.53", 0);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	fx_dns(f, "192.0.2.53", 12353);
	f->cfg.dns[0].family = 5;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);

	f = fx_new(true, false);
	fx_dns(f, "192.0.2.53", 12353);
	fx_dns(f, "192.0.2.54", 12354);
	fx_dns(f, "192.0.2.53", 12355);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	assert_null(OUT(f));
	assert_null(LEAK(f));
	fx_free(f);

	assert_string_equal(fw_strerror(FW_E_TOOMANY),
	    "too many subnets, exempt destinations or nameservers");
}

/*
 * The DNS rules come before everything, after the mark: a nameserver on a
 * local address (127.0.0.53) would otherwise meet "fib daddr type local
 * return", and one inside 0/0 the subnet redirect (DNS over TCP would go
 * to the TCP listener instead of the DNS one, as with sshuttle).
 */
static void
test_dns_first(void **state)
{
	struct fixture *f = fx_new(true, true);

	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, false, "::", 0, 0, 65535);
	fx_exempt(f, "192.0.2.1", 22);
	fx_dns(f, "127.0.0.53", 12353);
	fx_dns(f, "fd00::53", 12354);
	fx_dns(f, "192.0.2.1", 12355);	/* also the SSH server */
	EXPECT(f, MARK_RETURN,
	    "redirect udp 127.0.0.53 port 53 -> :12353 (dns)",
	    "redirect tcp 127.0.0.53 port 53 -> :12353 (dns)",
	    "redirect udp fd00::53 port 53 -> :12354 (dns)",
	    "redirect tcp fd00::53 port 53 -> :12354 (dns)",
	    "redirect udp 192.0.2.1 port 53 -> :12355 (dns)",
	    "redirect tcp 192.0.2.1 port 53 -> :12355 (dns)",
	    "return ipv4 tcp to local addresses",
	    "return 192.0.2.1 port 22 (exempt)",
	    "redirect 0.0.0.0/0 -> :12300",
	    "return ipv6 tcp to local addresses",
	    "redirect ::/0 -> :12300");
	assert_int_equal(OUT(f)[1].proto, IPPROTO_UDP);
	assert_int_equal(OUT(f)[2].proto, IPPROTO_TCP);
	assert_int_equal(OUT(f)[2].to_port, 12353);
	assert_int_equal(OUT(f)[2].prefix, 32);
	assert_int_equal(OUT(f)[4].prefix, 128);
	assert_int_equal(f->plan.mark, 0x6373300c);
	assert_int_equal(f->plan.log_group, 12300);
	assert_int_equal(NLEAK(f), 0);	/* block_leaks is off */
	fx_free(f);

	/* DNS rules do not depend on the families redirected for TCP */
	f = fx_new(true, false);
	fx_dns(f, "fd00::53", 12354);
	EXPECT(f, MARK_RETURN,
	    "redirect udp fd00::53 port 53 -> :12354 (dns)",
	    "redirect tcp fd00::53 port 53 -> :12354 (dns)",
	    "return ipv4 tcp to local addresses");
	fx_free(f);

	assert_int_equal(fw_mark_for_port(12300), 0x6373300c);
	assert_int_equal(fw_mark_for_port(1), 0x63730001);
	assert_int_equal(fw_mark_for_port(65535), 0x6373ffff);
}

/* The accept rules every leak protection plan starts with. */
#define FILTER_HEAD							\
	"accept packets with mark 0x6373300c",				\
	"accept packets out of lo",					\
	"accept packets to local addresses",				\
	"accept replies to inbound connections"
#define FILTER_V4							\
	"accept 169.254.0.0/16 (link-local)",				\
	"accept 224.0.0.0/24 (link-local multicast)",			\
	"accept 255.255.255.255 (broadcast)",				\
	"accept udp 0.0.0.0/0 ports 67-68 (dhcp)"
/* Without --dns (no nameserver captured), port 53 stays open. */
#define FILTER_NODNS							\
	"accept udp 0.0.0.0/0 port 53 (dns, not captured)",		\
	"accept udp ::/0 port 53 (dns, not captured)"
#define FILTER_V6							\
	"accept fe80::/10 (link-local)",				\
	"accept ff02::/16 (link-local multicast)",			\
	"accept udp ::/0 ports 546-547 (dhcpv6)"

/* 0/0 without ::/0: all IPv6 and IPv4 UDP are blocked. */
static void
test_leaks_full4(void **state)
{
	struct fixture *f = fx_new(true, true);

	f->cfg.block_leaks = true;
	f->cfg.prerouting = true;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, false, "fd00::", 8, 0, 65535);
	fx_exempt(f, "192.0.2.1", 22);
	fx_exempt(f, "2001:db8::1", 2222);
	fx_exempt(f, "2001:db8::2", 0);
	fx_dns(f, "192.0.2.53", 12353);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_FILTER(f, FILTER_HEAD,
	    "accept tcp 2001:db8::1 port 2222 (exempt)",
	    "accept tcp 2001:db8::2 (exempt)",
	    FILTER_V4, FILTER_V6,
	    "log ::/0 to group 12300 at 10/second (ipv6 not tunnelled)",
	    "reject tcp ::/0 with tcp reset (ipv6 not tunnelled)",
	    "reject ::/0 with icmpv6 admin-prohibited (ipv6 not tunnelled)",
	    "log udp 0.0.0.0/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp 0.0.0.0/0 with icmp port-unreachable (udp not tunnelled)");
	assert_true(f->plan.prerouting);	/* forward chain too */
	assert_int_equal(LEAK(f)[0].mark, f->plan.mark);
	assert_int_equal(LEAK(f)[13].verdict, FW_VERDICT_LOG);
	assert_int_equal(LEAK(f)[13].group, 12300);
	assert_int_equal(LEAK(f)[14].reject, FW_REJECT_TCP_RESET);
	assert_int_equal(LEAK(f)[14].proto, IPPROTO_TCP);
	assert_int_equal(LEAK(f)[15].reject, FW_REJECT_ADMIN);
	assert_int_equal(LEAK(f)[15].proto, 0);
	assert_int_equal(LEAK(f)[17].family, 4);
	assert_int_equal(LEAK(f)[17].proto, IPPROTO_UDP);
	assert_int_equal(LEAK(f)[17].reject, FW_REJECT_PORT_UNREACH);
	fx_free(f);
}

/* Both full: UDP of both families blocked, TCP left to the redirects. */
static void
test_leaks_both(void **state)
{
	struct fixture *f = fx_new(true, true);

	f->cfg.block_leaks = true;
	fx_subnet(f, false, "::", 0, 0, 0);		/* 0-0: every port */
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_exempt(f, "2001:db8::1", 22);	/* IPv6 TCP is not blocked */
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	/* no --dns: lookups keep going to this network's resolvers */
	EXPECT_FILTER(f, FILTER_HEAD, FILTER_V4, FILTER_V6, FILTER_NODNS,
	    "log udp 0.0.0.0/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp 0.0.0.0/0 with icmp port-unreachable (udp not tunnelled)",
	    "log udp ::/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp ::/0 with icmpv6 port-unreachable (udp not tunnelled)");
	fx_free(f);

	/* ::/0 alone: IPv4 is not touched */
	f = fx_new(true, true);
	f->cfg.block_leaks = true;
	fx_subnet(f, false, "::", 0, 0, 65535);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_FILTER(f, FILTER_HEAD, FILTER_V6,
	    "accept udp ::/0 port 53 (dns, not captured)",
	    "log udp ::/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp ::/0 with icmpv6 port-unreachable (udp not tunnelled)");
	fx_free(f);
}

/* -x inside 0/0 stays reachable over UDP; a -x inside that, not. */
static void
test_leaks_excludes(void **state)
{
	struct fixture *f = fx_new(true, false);

	f->cfg.block_leaks = true;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, true, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, false, "10.1.0.0", 16, 0, 65535);
	fx_subnet(f, true, "192.168.1.0", 24, 5000, 5010);
	fx_subnet(f, false, "172.16.0.0", 12, 0, 65535);  /* in no exclude */
	fx_subnet(f, false, "10.0.0.0", 9, 0, 65535);	/* inside 10/8 too */
	fx_subnet(f, true, "fd00::", 8, 0, 65535);	/* IPv6: blocked anyway */
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_FILTER(f, FILTER_HEAD, FILTER_V4, FILTER_V6, FILTER_NODNS,
	    "accept tcp ::/0 port 53 (dns, not captured)",
	    "accept udp 192.168.1.0/24 ports 5000-5010 (excluded)",
	    "log udp 10.1.0.0/16 to group 12300 at 10/second (tunnelled)",
	    "reject udp 10.1.0.0/16 with icmp port-unreachable (tunnelled)",
	    "log udp 10.0.0.0/9 to group 12300 at 10/second (tunnelled)",
	    "reject udp 10.0.0.0/9 with icmp port-unreachable (tunnelled)",
	    "accept udp 10.0.0.0/8 (excluded)",
	    "log ::/0 to group 12300 at 10/second (ipv6 not tunnelled)",
	    "reject tcp ::/0 with tcp reset (ipv6 not tunnelled)",
	    "reject ::/0 with icmpv6 admin-prohibited (ipv6 not tunnelled)",
	    "log udp 0.0.0.0/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp 0.0.0.0/0 with icmp port-unreachable (udp not tunnelled)");
	fx_free(f);
}

/* No chain at all unless asked for and something is fully tunnelled. */
static void
test_leaks_none(void **state)
{
	struct fixture *f;

	f = fx_new(true, true);		/* --no-block-leaks */
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, false, "::", 0, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	assert_int_equal(NLEAK(f), 0);
	assert_null(LEAK(f));
	fx_free(f);

	f = fx_new(true, true);		/* not everything */
	f->cfg.block_leaks = true;
	fx_subnet(f, false, "0.0.0.0", 1, 0, 65535);
	fx_subnet(f, false, "128.0.0.0", 1, 0, 65535);
	fx_subnet(f, false, "0.0.0.0", 0, 80, 443);
	fx_subnet(f, true, "::", 0, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	assert_int_equal(NLEAK(f), 0);
	fx_free(f);

	f = fx_new(false, true);	/* 0/0 of a family not redirected */
	f->cfg.block_leaks = true;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	assert_int_equal(NLEAK(f), 0);
	fx_free(f);
}

/*
 * The scope: every rule of the chains that see locally generated traffic
 * matches the owner, so that another user's packets (and packets without
 * a socket) match none of them; the prerouting side never does.
 */
static void
test_scope(void **state)
{
	struct fixture *f = fx_new(true, false);
	size_t i;

	f->cfg.has_user = true;
	f->cfg.user = 1001;
	f->cfg.block_leaks = true;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_dns(f, "127.0.0.53", 12353);
	EXPECT(f, MARK_RETURN " for uid 1001",
	    "redirect udp 127.0.0.53 port 53 -> :12353 (dns) for uid 1001",
	    "redirect tcp 127.0.0.53 port 53 -> :12353 (dns) for uid 1001",
	    "return ipv4 tcp to local addresses for uid 1001",
	    "redirect 0.0.0.0/0 -> :12300 for uid 1001");
	assert_true(NLEAK(f) > 0);
	for (i = 0; i < NLEAK(f); i++) {
		assert_int_equal(LEAK(f)[i].owner, FW_OWNER_UID);
		assert_int_equal(LEAK(f)[i].uid, 1001);
	}
	assert_int_equal(OUT(f)[4].owner, FW_OWNER_UID);
	assert_int_equal(OUT(f)[4].verdict, FW_VERDICT_REDIRECT);
	/* no prerouting: none of its chains */
	assert_int_equal(f->plan.nchain[FW_CHAIN_PREROUTING], 0);
	assert_int_equal(f->plan.nchain[FW_CHAIN_LAN], 0);
	assert_int_equal(f->plan.nchain[FW_CHAIN_LEAK_FORWARD], 0);
	assert_int_equal(f->plan.nchain[FW_CHAIN_LEAK_LAN], 0);
	fx_free(f);

	/* --group, with --user: both */
	f = fx_new(true, true);
	f->cfg.has_group = true;
	f->cfg.group = 100;
	f->cfg.has_user = true;
	f->cfg.user = 0;
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	EXPECT(f, MARK_RETURN " for uid 0 gid 100",
	    "return ipv4 tcp to local addresses for uid 0 gid 100",
	    "redirect 10.0.0.0/8 -> :12300 for uid 0 gid 100",
	    "return ipv6 tcp to local addresses for uid 0 gid 100");
	assert_int_equal(OUT(f)[0].owner, FW_OWNER_UID | FW_OWNER_GID);
	assert_int_equal(OUT(f)[0].gid, 100);
	fx_free(f);

	f = fx_new(true, false);
	f->cfg.has_group = true;
	f->cfg.group = 4294967294U;
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	EXPECT(f, MARK_RETURN " for gid 4294967294",
	    "return ipv4 tcp to local addresses for gid 4294967294",
	    "redirect 10.0.0.0/8 -> :12300 for gid 4294967294");
	fx_free(f);

	/* host-wide (root's default): no owner anywhere */
	f = fx_new(true, false);
	f->cfg.host_wide = true;
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	for (i = 0; i < NOUT(f); i++)
		assert_int_equal(OUT(f)[i].owner, 0);
	fx_free(f);
}

/*
 * Prerouting serves the allowed sources only: one goto per network into
 * the regular chain that holds the rules, unscoped; leak protection the
 * same way on the forward hook.
 */
static void
test_allow(void **state)
{
	struct fixture *f = fx_new(true, true);

	f->cfg.prerouting = true;
	f->cfg.block_leaks = true;
	f->cfg.has_user = true;		/* not the LAN's business */
	f->cfg.user = 1001;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_allow(f, "10.40.0.0", 24);
	fx_allow(f, "fd00:40::", 64);
	fx_allow(f, "192.0.2.7", 32);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_CHAIN(f, FW_CHAIN_PREROUTING,
	    "goto lan from 10.40.0.0/24 (allowed source)",
	    "goto lan from fd00:40::/64 (allowed source)",
	    "goto lan from 192.0.2.7 (allowed source)");
	EXPECT_CHAIN(f, FW_CHAIN_LAN, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "redirect 0.0.0.0/0 -> :12300",
	    "return ipv6 tcp to local addresses");
	EXPECT_CHAIN(f, FW_CHAIN_LEAK_FORWARD,
	    "goto leak_lan from 10.40.0.0/24 (allowed source)",
	    "goto leak_lan from fd00:40::/64 (allowed source)",
	    "goto leak_lan from 192.0.2.7 (allowed source)");
	assert_int_equal(f->plan.chain[FW_CHAIN_PREROUTING][1].match,
	    FW_MATCH_SOURCE);
	assert_int_equal(f->plan.chain[FW_CHAIN_PREROUTING][1].verdict,
	    FW_VERDICT_GOTO);
	assert_int_equal(f->plan.chain[FW_CHAIN_PREROUTING][1].goto_chain,
	    FW_CHAIN_LAN);
	assert_int_equal(f->plan.chain[FW_CHAIN_PREROUTING][1].family, 6);
	assert_int_equal(f->plan.chain[FW_CHAIN_LEAK_FORWARD][0].goto_chain,
	    FW_CHAIN_LEAK_LAN);
	/* the same filter rules, unscoped */
	assert_int_equal(f->plan.nchain[FW_CHAIN_LEAK_LAN], NLEAK(f));
	assert_int_equal(f->plan.chain[FW_CHAIN_LEAK_LAN][0].owner, 0);
	assert_int_equal(LEAK(f)[0].owner, FW_OWNER_UID);
	assert_string_equal(fw_chain_name(FW_CHAIN_LEAK_LAN), "leak_lan");
	assert_string_equal(fw_chain_name(FW_NCHAINS), "?");
	fx_free(f);

	/* host bits of a source are cleared */
	f = fx_new(true, false);
	f->cfg.prerouting = true;
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_allow(f, "10.40.0.9", 24);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_CHAIN(f, FW_CHAIN_PREROUTING,
	    "goto lan from 10.40.0.0/24 (allowed source)");
	assert_int_equal(f->plan.nchain[FW_CHAIN_LEAK_FORWARD], 0);
	fx_free(f);

	f = fx_new(true, false);
	f->cfg.prerouting = true;
	fx_allow(f, "10.40.0.0", 24);
	f->cfg.allow[0].prefix = 33;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
}

/* Only redirected connections reach the listeners. */
static void
test_input(void **state)
{
	struct fixture *f = fx_new(true, true);

	fx_listen(f, "127.0.0.1");
	fx_listen(f, "::");
	fx_dns(f, "192.0.2.53", 12353);
	assert_int_equal(addr_parse(&f->cfg.dns_listen[0], "127.0.0.1",
	    (size_t)-1, 0, 12353), 0);
	fx_dns(f, "fd00::53", 12354);	/* where: not known, not guarded */
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_CHAIN(f, FW_CHAIN_INPUT,
	    "drop tcp 127.0.0.1 port 12300 (not redirected)",
	    "drop tcp ::/0 port 12300 (not redirected)",
	    "drop udp 127.0.0.1 port 12353 (dns, not redirected)",
	    "drop tcp 127.0.0.1 port 12353 (dns, not redirected)");
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][0].match,
	    FW_MATCH_UNREDIRECTED);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][0].verdict,
	    FW_VERDICT_DROP);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][0].prefix, 32);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][1].prefix, 0);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][1].family, 6);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][2].proto, IPPROTO_UDP);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][3].port_lo, 12353);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][3].port_hi, 12353);
	assert_int_equal(f->plan.chain[FW_CHAIN_INPUT][3].owner, 0);
	fx_free(f);

	/* a listener not on the config's port, a DNS listener not on its
	 * nameserver's: refused */
	f = fx_new(true, false);
	fx_listen(f, "127.0.0.1");
	f->cfg.listen[0].port = 12301;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
	f = fx_new(true, false);
	fx_dns(f, "192.0.2.53", 12353);
	assert_int_equal(addr_parse(&f->cfg.dns_listen[0], "::1", (size_t)-1,
	    0, 12353), 0);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
}

/* A UDP socket where the helper found one (port P), and its family's
 * capture. */
static void
fx_udp(struct fixture *f, const char *addr)
{
	struct addr *u = &f->cfg.udp_listen[f->cfg.nudp++];

	assert_int_equal(addr_parse(u, addr, (size_t)-1, 0, f->cfg.port), 0);
	if (u->family == ADDR_V4)
		f->cfg.udp4 = true;
	else
		f->cfg.udp6 = true;
}

#define T_MARK		"0x6375300c"
#define R_MARK		"0x6376300c"

/*
 * The UDP chain: the marks, the nameservers, then per family local,
 * never captured, exempt, and the subnets with the nat precedence, an
 * include marking T; scoped like "output".  Then the tproxy of what
 * comes back in, the gates, the LAN chain and the confinement of R.
 */
static void
test_udp_chains(void **state)
{
	struct fixture *f = fx_new(true, true);
	size_t i;

	(void)state;
	f->cfg.has_user = true;
	f->cfg.user = 1001;
	f->cfg.prerouting = true;
	fx_allow(f, "10.40.0.0", 24);
	fx_udp(f, "127.0.0.1");
	fx_udp(f, "::");
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, true, "10.20.0.0", 16, 0, 65535);
	fx_subnet(f, false, "10.20.5.0", 24, 8000, 8999);
	fx_subnet(f, false, "fd00::", 8, 0, 65535);
	fx_exempt(f, "192.0.2.7", 22);
	fx_dns(f, "10.30.0.53", 12353);
	/* the nat chain returns for R too */
	EXPECT(f, MARK_RETURN " for uid 1001",
	    "return packets with mark " R_MARK " (udp reply) for uid 1001",
	    "redirect udp 10.30.0.53 port 53 -> :12353 (dns) for uid 1001",
	    "redirect tcp 10.30.0.53 port 53 -> :12353 (dns) for uid 1001",
	    "return ipv4 tcp to local addresses for uid 1001",
	    "return 192.0.2.7 port 22 (exempt) for uid 1001",
	    "redirect 10.20.5.0/24 ports 8000-8999 -> :12300 for uid 1001",
	    "return 10.20.0.0/16 for uid 1001",
	    "redirect 10.0.0.0/8 -> :12300 for uid 1001",
	    "return ipv6 tcp to local addresses for uid 1001",
	    "redirect fd00::/8 -> :12300 for uid 1001");
	EXPECT_CHAIN(f, FW_CHAIN_UDP_OUTPUT,
	    MARK_RETURN " for uid 1001",
	    "return packets with mark " R_MARK " (udp reply) for uid 1001",
	    "return udp 10.30.0.53 port 53 (dns) for uid 1001",
	    "return ipv4 udp to local addresses for uid 1001",
	    "return udp 255.255.255.255 (broadcast) for uid 1001",
	    "return udp 224.0.0.0/4 (multicast) for uid 1001",
	    "return udp 169.254.0.0/16 (link-local) for uid 1001",
	    "return udp 0.0.0.0/0 ports 67-68 (dhcp) for uid 1001",
	    "return udp 192.0.2.7 port 22 (exempt) for uid 1001",
	    "mark udp 10.20.5.0/24 ports 8000-8999 -> mark " T_MARK " for uid 1001",
	    "return udp 10.20.0.0/16 for uid 1001",
	    "mark udp 10.0.0.0/8 -> mark " T_MARK " for uid 1001",
	    "return ipv6 udp to local addresses for uid 1001",
	    "return udp ff00::/8 (multicast) for uid 1001",
	    "return udp fe80::/10 (link-local) for uid 1001",
	    "return udp ::/0 ports 546-547 (dhcpv6) for uid 1001",
	    "mark udp fd00::/8 -> mark " T_MARK " for uid 1001");
	for (i = 0; i < f->plan.nchain[FW_CHAIN_UDP_OUTPUT]; i++) {
		const struct fw_rule *r = &f->plan.chain[FW_CHAIN_UDP_OUTPUT][i];

		assert_int_equal(r->owner, FW_OWNER_UID);
		/* everything but the mark matches is UDP only */
		if (r->match != FW_MATCH_MARK)
			assert_int_equal(r->proto, IPPROTO_UDP);
	}
	/* back in through lo: to the socket of the family, the wildcard
	 * by port alone; then the allowed sources */
	EXPECT_CHAIN(f, FW_CHAIN_UDP_PREROUTING,
	    "tproxy ipv4 udp packets with mark " T_MARK " -> 127.0.0.1:12300 mark " T_MARK,
	    "tproxy ipv6 udp packets with mark " T_MARK " -> *:12300 mark " T_MARK,
	    "goto udp_lan from 10.40.0.0/24 (allowed source)");
	assert_false(f->plan.chain[FW_CHAIN_UDP_PREROUTING][0].to_any);
	assert_true(f->plan.chain[FW_CHAIN_UDP_PREROUTING][1].to_any);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_LAN,
	    MARK_RETURN,
	    "return packets with mark " R_MARK " (udp reply)",
	    "return udp 10.30.0.53 port 53 (dns)",
	    "return ipv4 udp to local addresses",
	    "return udp 255.255.255.255 (broadcast)",
	    "return udp 224.0.0.0/4 (multicast)",
	    "return udp 169.254.0.0/16 (link-local)",
	    "return udp 0.0.0.0/0 ports 67-68 (dhcp)",
	    "return udp 192.0.2.7 port 22 (exempt)",
	    "tproxy udp 10.20.5.0/24 ports 8000-8999 -> 127.0.0.1:12300 mark " T_MARK,
	    "return udp 10.20.0.0/16",
	    "tproxy udp 10.0.0.0/8 -> 127.0.0.1:12300 mark " T_MARK,
	    "return ipv6 udp to local addresses",
	    "return udp ff00::/8 (multicast)",
	    "return udp fe80::/10 (link-local)",
	    "return udp ::/0 ports 546-547 (dhcpv6)",
	    "tproxy udp fd00::/8 -> *:12300 mark " T_MARK);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_REPLY,
	    "return packets to local addresses",
	    "return 10.40.0.0/24 (allowed source)",
	    "drop packets with mark " R_MARK " (udp reply elsewhere)");
	/* none of the prerouting side, nor the reply guard, is scoped */
	for (i = 0; i < f->plan.nchain[FW_CHAIN_UDP_LAN]; i++)
		assert_int_equal(f->plan.chain[FW_CHAIN_UDP_LAN][i].owner, 0);
	for (i = 0; i < f->plan.nchain[FW_CHAIN_UDP_REPLY]; i++)
		assert_int_equal(f->plan.chain[FW_CHAIN_UDP_REPLY][i].owner, 0);
	assert_int_equal(f->plan.chain[FW_CHAIN_UDP_PREROUTING][0].owner, 0);
	assert_true(f->plan.udp4 && f->plan.udp6);
	assert_int_equal(f->plan.tproxy_mark, 0x6375300c);
	assert_int_equal(f->plan.reply_mark, 0x6376300c);
	assert_int_equal(fw_tproxy_mark_for_port(1), 0x63750001);
	assert_int_equal(fw_reply_mark_for_port(65535), 0x6376ffff);
	fx_free(f);

	/* one family only; host-wide; no prerouting: no gates, no LAN chain,
	 * R confined to local addresses */
	f = fx_new(true, true);
	f->cfg.host_wide = true;
	fx_udp(f, "::1");
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, false, "fd00::", 8, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_OUTPUT,
	    MARK_RETURN,
	    "return packets with mark " R_MARK " (udp reply)",
	    "return ipv6 udp to local addresses",
	    "return udp ff00::/8 (multicast)",
	    "return udp fe80::/10 (link-local)",
	    "return udp ::/0 ports 546-547 (dhcpv6)",
	    "mark udp fd00::/8 -> mark " T_MARK);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_PREROUTING,
	    "tproxy ipv6 udp packets with mark " T_MARK " -> [::1]:12300 mark " T_MARK);
	assert_int_equal(f->plan.nchain[FW_CHAIN_UDP_LAN], 0);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_REPLY,
	    "return packets to local addresses",
	    "drop packets with mark " R_MARK " (udp reply elsewhere)");
	fx_free(f);

	/* prerouting whose allowed sources are of a family without UDP
	 * capture: no gate, no LAN chain */
	f = fx_new(true, true);
	f->cfg.prerouting = true;
	fx_allow(f, "fd00:40::", 64);
	fx_udp(f, "0.0.0.0");
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_CHAIN(f, FW_CHAIN_UDP_PREROUTING,
	    "tproxy ipv4 udp packets with mark " T_MARK " -> *:12300 mark " T_MARK);
	assert_int_equal(f->plan.nchain[FW_CHAIN_UDP_LAN], 0);
	fx_free(f);
}

/* Without UDP sockets there is no UDP capture at all: today's plan. */
static void
test_udp_none(void **state)
{
	struct fixture *f = fx_new(true, true);
	int ch;

	(void)state;
	f->cfg.block_leaks = true;
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	EXPECT(f, MARK_RETURN,
	    "return ipv4 tcp to local addresses",
	    "redirect 0.0.0.0/0 -> :12300",
	    "return ipv6 tcp to local addresses");
	for (ch = FW_CHAIN_UDP_OUTPUT; ch <= FW_CHAIN_UDP_REPLY; ch++)
		assert_int_equal(f->plan.nchain[ch], 0);
	assert_false(f->plan.udp4 || f->plan.udp6);
	assert_int_equal(LEAK(f)[1].match, FW_MATCH_LOOPBACK);
	fx_free(f);
}

/*
 * Leak protection with UDP capture: carried UDP (T) and the replies (R)
 * are accepted right after M; the rest of the chain is unchanged, so a
 * family without a UDP socket is blocked as before.
 */
static void
test_udp_leaks(void **state)
{
	struct fixture *f = fx_new(true, true);

	(void)state;
	f->cfg.block_leaks = true;
	fx_udp(f, "127.0.0.1");
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, false, "::", 0, 0, 65535);
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), 0);
	EXPECT_FILTER(f, "accept packets with mark 0x6373300c",
	    "accept packets with mark " R_MARK " (udp reply)",
	    "accept packets with mark " T_MARK " (udp carried)",
	    "accept packets out of lo",
	    "accept packets to local addresses",
	    "accept replies to inbound connections",
	    "accept 169.254.0.0/16 (link-local)",
	    "accept 224.0.0.0/24 (link-local multicast)",
	    "accept 255.255.255.255 (broadcast)",
	    "accept udp 0.0.0.0/0 ports 67-68 (dhcp)",
	    "accept fe80::/10 (link-local)",
	    "accept ff02::/16 (link-local multicast)",
	    "accept udp ::/0 ports 546-547 (dhcpv6)",
	    "accept udp 0.0.0.0/0 port 53 (dns, not captured)",
	    "accept udp ::/0 port 53 (dns, not captured)",
	    "log udp 0.0.0.0/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp 0.0.0.0/0 with icmp port-unreachable (udp not tunnelled)",
	    "log udp ::/0 to group 12300 at 10/second (udp not tunnelled)",
	    "reject udp ::/0 with icmpv6 port-unreachable (udp not tunnelled)");
	/* IPv4 UDP to 0/0 is marked, and so accepted above the reject;
	 * IPv6 (no UDP socket) has no UDP chain rules */
	EXPECT_CHAIN(f, FW_CHAIN_UDP_OUTPUT,
	    MARK_RETURN,
	    "return packets with mark " R_MARK " (udp reply)",
	    "return ipv4 udp to local addresses",
	    "return udp 255.255.255.255 (broadcast)",
	    "return udp 224.0.0.0/4 (multicast)",
	    "return udp 169.254.0.0/16 (link-local)",
	    "return udp 0.0.0.0/0 ports 67-68 (dhcp)",
	    "mark udp 0.0.0.0/0 -> mark " T_MARK);
	fx_free(f);
}

/* The config must hold together. */
static void
test_udp_invalid(void **state)
{
	struct fixture *f;

	(void)state;
	/* a captured family without its socket */
	f = fx_new(true, true);
	fx_udp(f, "127.0.0.1");
	f->cfg.udp6 = true;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
	/* a socket of a family without TCP rules */
	f = fx_new(true, false);
	fx_udp(f, "::1");
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
	/* on another port */
	f = fx_new(true, false);
	fx_udp(f, "127.0.0.1");
	f->cfg.udp_listen[0].port = 12301;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
	f = fx_new(true, false);
	f->cfg.nudp = FW_MAX_LISTEN + 1;
	assert_int_equal(fw_plan_build(&f->cfg, &f->plan), FW_E_INVAL);
	fx_free(f);
}

static bool
carried(struct fixture *f, const char *addr, int port)
{
	struct addr a;

	assert_int_equal(addr_parse(&a, addr, (size_t)-1, 0, (uint16_t)port), 0);
	return fw_plan_udp_carried(&f->cfg, &a);
}

/* The reply sockets' check: what the UDP rules carry, nothing else. */
static void
test_udp_carried(void **state)
{
	struct fixture *f = fx_new(true, true);

	(void)state;
	fx_udp(f, "127.0.0.1");
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	fx_subnet(f, true, "10.20.0.0", 16, 0, 65535);
	fx_subnet(f, false, "10.20.5.0", 24, 8000, 8999);
	fx_subnet(f, true, "10.1.0.0", 16, 5000, 5999);
	fx_subnet(f, false, "0.0.0.0", 0, 0, 65535);
	fx_subnet(f, true, "0.0.0.0", 0, 0, 65535);	/* equal: exclude wins */
	fx_subnet(f, false, "fd00::", 8, 0, 65535);
	fx_exempt(f, "10.30.0.7", 22);
	fx_exempt(f, "10.30.0.8", 0);
	fx_dns(f, "10.30.0.53", 12353);
	assert_true(carried(f, "10.30.0.7", 4444));
	assert_true(carried(f, "10.30.0.7", 53));
	assert_false(carried(f, "10.30.0.7", 22));	/* exempt port */
	assert_false(carried(f, "10.30.0.8", 4444));	/* exempt host */
	assert_false(carried(f, "10.30.0.53", 53));	/* captured nameserver */
	assert_true(carried(f, "10.30.0.53", 54));
	assert_false(carried(f, "10.20.5.7", 5353));	/* excluded */
	assert_true(carried(f, "10.20.5.7", 8080));	/* more specific include */
	assert_false(carried(f, "10.1.2.3", 5000));	/* excluded ports */
	assert_true(carried(f, "10.1.2.3", 6000));
	assert_false(carried(f, "192.0.2.7", 5353));	/* /0 exclude wins */
	assert_false(carried(f, "10.30.0.7", 0));	/* no port */
	assert_false(carried(f, "10.30.0.7", 67));	/* DHCP */
	assert_false(carried(f, "10.255.255.255", 68));
	/* never captured, never a reply source */
	assert_false(carried(f, "224.0.0.251", 5353));
	assert_false(carried(f, "239.1.2.3", 5000));
	assert_false(carried(f, "255.255.255.255", 5000));
	assert_false(carried(f, "169.254.1.1", 5000));
	assert_false(carried(f, "127.0.0.1", 5000));
	assert_false(carried(f, "0.0.0.0", 5000));
	/* IPv6: no UDP socket of that family */
	assert_false(carried(f, "fd00::7", 5000));
	fx_free(f);

	f = fx_new(false, true);
	fx_udp(f, "::1");
	fx_subnet(f, false, "::", 0, 0, 65535);
	assert_true(carried(f, "2001:db8::7", 5000));
	assert_false(carried(f, "2001:db8::7", 546));	/* DHCPv6 */
	assert_false(carried(f, "ff02::fb", 5353));
	assert_false(carried(f, "ff0e::1", 5000));
	assert_false(carried(f, "fe80::1", 5000));
	assert_false(carried(f, "::1", 5000));
	assert_false(carried(f, "::", 5000));
	assert_false(carried(f, "::ffff:10.0.0.1", 5000));
	assert_false(carried(f, "10.0.0.1", 5000));	/* no IPv4 capture */
	fx_free(f);

	/* nothing captured without a socket */
	f = fx_new(true, false);
	fx_subnet(f, false, "10.0.0.0", 8, 0, 65535);
	assert_false(carried(f, "10.30.0.7", 4444));
	fx_free(f);
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
		cmocka_unit_test(test_dns_first),
		cmocka_unit_test(test_leaks_full4),
		cmocka_unit_test(test_leaks_both),
		cmocka_unit_test(test_leaks_excludes),
		cmocka_unit_test(test_leaks_none),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_allow),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_udp_chains),
		cmocka_unit_test(test_udp_none),
		cmocka_unit_test(test_udp_leaks),
		cmocka_unit_test(test_udp_invalid),
		cmocka_unit_test(test_udp_carried),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
