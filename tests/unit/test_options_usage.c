/* SPDX-License-Identifier: ISC */
/*
 * test_options_usage.c - options_usage.c: the --help text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "exitcode.h"
#include "options.h"
#include "optfix.h"

/* --help names every option, and every option it names is accepted. */
static void
test_usage_text(void **state)
{
	static const char *const flags[][2] = {
		{ "-r, --remote", "--remote=gw" },
		{ "-x, --exclude", "--exclude=10/8" },
		{ "-X, --exclude-from", NULL },
		{ "-s, --subnets", NULL },
		{ "-N, --auto-nets", "--auto-nets" },
		{ "-H, --auto-hosts", NULL },	/* needs --dns: test_options_compat */
		{ "--seed-hosts", "--seed-hosts=web.lab,10.0.0.1" },
		{ "-l, --listen", "--listen=1" },
		{ "-e, --ssh-cmd", "--ssh-cmd=ssh" },
		{ "--ssh-config", "--ssh-config=/x" },
		{ "--no-ipv6", "--no-ipv6" },
		{ "--stub-cache", "--stub-cache" },
		{ "--remote-tmpdir", "--remote-tmpdir=/x" },
		{ "--dns", "--dns" },
		{ "--ns-hosts", "--ns-hosts=192.0.2.1" },
		{ "--to-ns", NULL },		/* needs --dns: test_dns */
		{ "--dns-domains", NULL },	/* likewise */
		{ "--no-block-leaks", "--no-block-leaks" },
		{ "--user", "--user=root" },
		{ "--group", "--group=root" },
		{ "--host-wide", "--host-wide" },
		{ "--allow-from", "--allow-from=192.168.1.0/24" },
		{ "--sudoers", NULL },		/* main.c: first argument */
		{ "-v, --verbose", "--verbose" },
		{ "-q, --quiet", "--quiet" },
		{ "-h, --help", "--help" },
		{ "-V, --version", "-V" },
		{ "--disable-ipv6", "--disable-ipv6" },
		{ "--method", "--method=nft" },
		{ "--no-cmd-delimiter", "--no-cmd-delimiter" },
		{ "--sudoers-no-modify", "--sudoers-no-modify" },
		{ "--sudoers-user", NULL },	/* test_options_compat */
		{ "--firewall", "--firewall" },
		{ "-D, --daemon", "--daemon" },
		{ "--pidfile", "--pidfile=/run/cs.pid" },
		{ "--syslog", "--syslog" },
		{ "--no-reconnect", "--no-reconnect" },
		{ "--alive-interval", "--alive-interval=1" },
		{ "--alive-timeout", "--alive-timeout=60" },
		{ "--probe-timeout", "--probe-timeout=2.5" },
		{ "--resume-grace", "--resume-grace=30" },
		{ "--max-streams", "--max-streams=100" },
		{ "--buffer-budget", "--buffer-budget=8M" },
		{ "--no-udp", "--no-udp" },
		{ "--udp-timeout", "--udp-timeout=30" },
		{ "--max-udp-flows", "--max-udp-flows=100" },
		{ "-t, --tmark", "--tmark=0x100" },
		{ "--config", NULL },		/* test_always_on, test_config */
		{ "--name", "--name=office" },
		{ "--privsep-user", "--privsep-user=nobody" },
		{ "--namespace", "--namespace=vpn" },
		{ "--namespace-pid", "--namespace-pid=42" },
	};
	static const char *const groups[] = {
		"\nWhich traffic:\n", "\nListening and serving a LAN:\n",
		"\nDNS:\n", "\nSSH and the remote host:\n", "\nRunning:\n",
		"\nInformation and set-up:\n",
	};
	struct options o;
	char *text = NULL, err[256], *p, name[64];
	size_t len = 0, i, nlong = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	options_usage(f);
	fclose(f);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strstr(text, flags[i][0]) == NULL)
			fail_msg("--help does not mention %s", flags[i][0]);
		if (flags[i][1] != NULL &&
		    optfix_parse(&o, err, sizeof(err), "-r", "gw", "10/8",
		    flags[i][1], NULL) != CSHUTTLE_EXIT_OK)
			fail_msg("%s: %s", flags[i][1], err);
		if (flags[i][1] != NULL)
			options_free(&o);
	}
	/* No long option in the text that the table above does not know. */
	for (p = text; (p = strstr(p, "--")) != NULL; p += 2) {
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-6");

		if (n == 0)
			continue;
		snprintf(name, sizeof(name), "--%.*s", (int)n, p + 2);
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strstr(flags[i][0], name) != NULL &&
			    strlen(strstr(flags[i][0], name)) == strlen(name))
				break;
		if (i == sizeof(flags) / sizeof(flags[0]))
			fail_msg("--help mentions unknown %s", name);
		nlong++;
	}
	assert_true(nlong >= sizeof(flags) / sizeof(flags[0]));
	assert_non_null(strstr(text, "CSHUTTLE_ARGS"));
	/* Grouped by topic, in this order. */
	for (i = 0, p = text; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if ((p = strstr(p, groups[i])) == NULL)
			fail_msg("--help: no group \"%s\" after the previous",
			    groups[i]);
	}
	assert_non_null(strstr(text, "SSHUTTLE OPTIONS"));
	assert_non_null(strstr(text, "@FILE"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage_text, optfix_setup,
		    optfix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
