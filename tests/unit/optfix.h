/* SPDX-License-Identifier: ISC */
/*
 * optfix.h - what the tests of the options and of the configuration file
 * share (test_options*.c, test_config.c): a private directory, a fake
 * resolver, and parsing the way main.c does it.
 *
 * options_parse() keeps host names; the helpers here parse and then
 * resolve them (resolve_options()), and a dns_resolve() hook answers, so
 * nothing touches the network.  The resolver knows two names:
 *
 *   web.test  198.51.100.9
 *   ns.test   198.51.100.53 and 2001:db8::53 after optfix_setup(),
 *             198.51.100.53 alone after optfix_conf_setup() (the file's
 *             tests count the servers a key gives by that one address)
 *
 * and answers DNS_E_NOTFOUND, "Domain name not found", for any other.
 *
 * Include after <cmocka.h>: the helpers end the running test through
 * its assertions.
 */
#ifndef CSHUTTLE_OPTFIX_H
#define CSHUTTLE_OPTFIX_H

#include <stddef.h>

#include "options.h"

/* The test's directory, made by the setup and removed by the teardown. */
extern char	optfix_tmpdir[64];
/* optfix_tmpdir/c.conf: the file optfix_parse_conf() writes. */
extern char	optfix_conf[128];
/* Calls of the fake resolver since the setup. */
extern int	optfix_resolves;

/*
 * cmocka setup and teardown: a new optfix_tmpdir, $CSHUTTLE_ARGS unset,
 * the fake resolver installed; the teardown unsets $CSHUTTLE_ARGS again,
 * removes the hook and the directory.  The two setups differ only in
 * what ns.test resolves to (above).
 */
int	optfix_setup(void **state);
int	optfix_conf_setup(void **state);
int	optfix_teardown(void **state);

/* Write len bytes to path, mode 0644 whatever the umask. */
void	optfix_write_bytes(const char *path, const char *text, size_t len);
/* optfix_tmpdir/name with `text`; returns the path, valid for the next
 * seven calls (static buffers in rotation). */
const char *optfix_write_file(const char *name, const char *text);

/* options_parse(), then its host names resolved, as main.c does. */
int	optfix_parse_resolve(struct options *o, int argc, char **argv,
	    char *err, size_t errlen);
/* optfix_parse_resolve() on a NULL-terminated word list (argv[0]
 * supplied). */
int	optfix_parse(struct options *o, char *err, size_t errlen, ...);
/* The word list must fail with a usage error containing `want`, on one
 * line. */
void	optfix_expect_usage(const char *want, ...);

/* Write `text` to optfix_conf and parse "--config optfix_conf" and the
 * NULL-terminated word list. */
int	optfix_parse_conf(struct options *o, char *err, size_t errlen,
	    const char *text, ...);
/*
 * `text` as optfix_conf, with the word list, must fail with exactly
 * "CONF:LINE: want..." (line > 0), "CONF: want..." (line 0) or, with
 * line -1, with want anywhere; on one line.
 */
void	optfix_expect_error(const char *text, int line, const char *want, ...);
/* The subnets in order, "!" before excludes, separated by spaces (a
 * static buffer). */
const char *optfix_subnets(const struct options *o);

#endif
