/* SPDX-License-Identifier: ISC */
/*
 * test_fw_pfrules.c - the helper's pf rule set against the fake pfctl
 * (tests/unit/fake_pfctl.sh): a whole life (pf enabled, the hook
 * checked, stale anchors flushed while a live instance's stays, the
 * rules loaded as fw_pf renders them, replaced, flushed, pf's reference
 * given back), and what happens when pfctl fails: a refused ruleset is
 * an error in pfctl's words and nothing is flushed; a main ruleset
 * without the anchor lines stops the start and gives pf's reference
 * back.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

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

#include "fw.h"
#include "fakepf.h"
#include "fw_pf.h"
#include "fw_pfrules.h"

#define FAKE	FAKE_PFCTL

static int
t_setup(void **state)
{
	fakepf_start("rdr-anchor \"cshuttle/*\" all", "anchor \"cshuttle/*\" all");
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
t_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define t_truncate()	fakepf_clear()

struct fx {
	struct subnet		v[4];
	struct subnet_list	list;
	struct fw_config	cfg;
};

static void
fx_init(struct fx *f, uint16_t port, const char *net, int prefix)
{
	memset(f, 0, sizeof(*f));
	f->list.v = f->v;
	f->list.cap = 4;
	f->list.n = 1;
	f->v[0].family = 4;
	f->v[0].prefix = (uint8_t)prefix;
	assert_int_equal(inet_pton(AF_INET, net, f->v[0].addr), 1);
	f->cfg.subnets = &f->list;
	f->cfg.port = port;
	f->cfg.ipv4 = true;
	f->cfg.host_wide = true;
	assert_int_equal(addr_parse(&f->cfg.listen[f->cfg.nlisten++], "127.0.0.1",
	    (size_t)-1, 0, port), 0);
}

/* What pfctl was given for one load: the header line, then the text. */
static void
t_expect_load(const char *log, const struct fw_config *cfg)
{
	char	*text, want[8192];

	assert_int_equal(fw_pf_render(cfg, &text), 0);
	snprintf(want, sizeof(want), "pfctl -a cshuttle/%u -f -\n<<<\n%s>>>\n",
	    (unsigned)cfg->port, text);
	if (strstr(log, want) == NULL)
		fail_msg("not loaded as rendered:\n%s\n--- log\n%s", want, log);
	free(text);
}

/* A port nobody has: bound to port 0, given back. */
static uint16_t
t_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* A listener on a port of loopback: a live instance. */
static int
t_listener(uint16_t *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
test_life(void **state)
{
	struct fw_pfrules	*r;
	struct fx		 f, g;
	char			 err[256], anchors[128], want[128], *log;
	uint16_t		 live, dead;
	int			 lfd;

	lfd = t_listener(&live);
	assert_true(fw_pfrules_port_alive(live));
	/* A port just released: nobody has it. */
	dead = t_free_port();
	assert_false(fw_pfrules_port_alive(dead));
	snprintf(anchors, sizeof(anchors), "  cshuttle/%u\n  cshuttle/%u\n", (unsigned)dead,
	    (unsigned)live);
	setenv("FAKE_PFCTL_ANCHORS", anchors, 1);

	assert_non_null(r = fw_pfrules_open(FAKE, FW_PFCTL_MACOS, err, sizeof(err)));
	assert_string_equal(t_log(), "pfctl -E\npfctl -s nat\npfctl -s rules\n");
	t_truncate();
	fx_init(&f, 12300, "10.0.0.0", 8);
	assert_int_equal(fw_pfrules_apply(r, &f.cfg, err, sizeof(err)), 0);
	log = t_log();
	/* The dead instance's anchor flushed, the live one's kept. */
	snprintf(want, sizeof(want), "pfctl -a cshuttle -s Anchors\npfctl -a cshuttle/%u -F all\n"
	    "pfctl -a cshuttle/12300 -f -\n", (unsigned)dead);
	assert_true(t_starts(log, want));
	t_expect_load(log, &f.cfg);
	t_truncate();
	/* Replaced whole, no stale check the second time. */
	fx_init(&g, 12300, "172.16.0.0", 12);
	assert_int_equal(fw_pfrules_apply(r, &g.cfg, err, sizeof(err)), 0);
	log = t_log();
	assert_true(t_starts(log, "pfctl -a cshuttle/12300 -f -\n"));
	t_expect_load(log, &g.cfg);
	t_truncate();
	assert_int_equal(fw_pfrules_delete(r, err, sizeof(err)), 0);
	fw_pfrules_close(r);
	assert_string_equal(t_log(), "pfctl -a cshuttle/12300 -F all\npfctl -X 4242\n");
	close(lfd);
}

/* pfctl refuses a ruleset: its words, nothing flushed (the rules before
 * stay); a port that changes is refused before pfctl is asked. */
static void
test_apply_fails(void **state)
{
	struct fw_pfrules	*r;
	struct fx		 f;
	char			 err[256];

	assert_non_null(r = fw_pfrules_open(FAKE, FW_PFCTL_MACOS, err, sizeof(err)));
	fx_init(&f, 12300, "10.0.0.0", 8);
	assert_int_equal(fw_pfrules_apply(r, &f.cfg, err, sizeof(err)), 0);
	t_truncate();
	setenv("FAKE_PFCTL_FAIL", "-a cshuttle/12300 -f -", 1);
	setenv("FAKE_PFCTL_FAIL_MSG", "DIOCADDRULE: Invalid argument", 1);
	assert_int_equal(fw_pfrules_apply(r, &f.cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "pfctl -a cshuttle/12300 -f -: exited with status 1: "
	    "pfctl: DIOCADDRULE: Invalid argument");
	assert_null(strstr(t_log(), "-F all"));
	unsetenv("FAKE_PFCTL_FAIL");
	t_truncate();
	fx_init(&f, 12301, "10.0.0.0", 8);
	assert_int_equal(fw_pfrules_apply(r, &f.cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port changed"));
	assert_string_equal(t_log(), "");
	fw_pfrules_close(r);
	assert_string_equal(t_log(), "pfctl -a cshuttle/12300 -F all\npfctl -X 4242\n");
}

/* The main ruleset does not reach the anchors: no start, the reference
 * taken is given back, nothing loaded. */
static void
test_not_hooked(void **state)
{
	char	err[256];

	setenv("FAKE_PFCTL_RULES", "anchor \"com.apple/*\" all", 1);
	assert_null(fw_pfrules_open(FAKE, FW_PFCTL_MACOS, err, sizeof(err)));
	assert_non_null(strstr(err, "'anchor \"cshuttle/*\"'"));
	assert_string_equal(t_log(), "pfctl -E\npfctl -s nat\npfctl -s rules\npfctl -X 4242\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_life, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_apply_fails, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_not_hooked, t_setup, t_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
