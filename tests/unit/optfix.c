/* SPDX-License-Identifier: ISC */
/*
 * optfix.c - the fixture of the options' and the configuration file's
 * tests (optfix.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>

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

#include "dns_resolve.h"
#include "exitcode.h"
#include "options.h"
#include "resolve.h"
#include "optfix.h"

char	optfix_tmpdir[64];
char	optfix_conf[128];
int	optfix_resolves;

static bool	optfix_ns_v6;	/* ns.test has its IPv6 address too */

static int
optfix_resolve(const char *name, int family, int timeout_ms,
    struct addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	optfix_resolves++;
	*n = 0;
	if (strcmp(name, "web.test") == 0) {
		memset(out, 0, sizeof(*out));
		out[0].family = 4;
		inet_pton(AF_INET, "198.51.100.9", out[0].bytes);
		*n = 1;
		return 0;
	}
	if (strcmp(name, "ns.test") == 0 && (!optfix_ns_v6 || max >= 2)) {
		memset(out, 0, sizeof(*out));
		out[0].family = 4;
		inet_pton(AF_INET, "198.51.100.53", out[0].bytes);
		*n = 1;
		if (optfix_ns_v6) {
			memset(&out[1], 0, sizeof(out[1]));
			out[1].family = 6;
			inet_pton(AF_INET6, "2001:db8::53", out[1].bytes);
			*n = 2;
		}
		return 0;
	}
	snprintf(err, errlen, "Domain name not found");
	return DNS_E_NOTFOUND;
}

static int
optfix_start(const char *tag, bool ns_v6)
{
	snprintf(optfix_tmpdir, sizeof(optfix_tmpdir),
	    "/tmp/cshuttle-test-%s.XXXXXX", tag);
	if (mkdtemp(optfix_tmpdir) == NULL)
		return -1;
	snprintf(optfix_conf, sizeof(optfix_conf), "%s/c.conf", optfix_tmpdir);
	optfix_resolves = 0;
	optfix_ns_v6 = ns_v6;
	unsetenv(OPTIONS_ENV);
	dns_resolve_set_hook(optfix_resolve);
	return 0;
}

int
optfix_setup(void **state)
{
	return optfix_start("opt", true);
}

int
optfix_conf_setup(void **state)
{
	return optfix_start("cfg", false);
}

int
optfix_teardown(void **state)
{
	char cmd[128];

	unsetenv(OPTIONS_ENV);
	dns_resolve_set_hook(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", optfix_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

void
optfix_write_bytes(const char *path, const char *text, size_t len)
{
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
}

const char *
optfix_write_file(const char *name, const char *text)
{
	static char paths[8][192];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, sizeof(paths[0]), "%s/%s", optfix_tmpdir, name);
	optfix_write_bytes(p, text, strlen(text));
	return p;
}

int
optfix_parse_resolve(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	int	r;

	if ((r = options_parse(o, argc, argv, err, errlen)) != CSHUTTLE_EXIT_OK)
		return r;
	return resolve_options(o, NULL, err, errlen);
}

int
optfix_parse(struct options *o, char *err, size_t errlen, ...)
{
	char *argv[64];
	va_list ap;
	int argc = 0;

	argv[argc++] = "cshuttle";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return optfix_parse_resolve(o, argc, argv, err, errlen);
}

void
optfix_expect_usage(const char *want, ...)
{
	struct options o;
	char err[512], *argv[64];
	va_list ap;
	int argc = 0, r;

	argv[argc++] = "cshuttle";
	va_start(ap, want);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	r = optfix_parse_resolve(&o, argc, argv, err, sizeof(err));
	if (r != CSHUTTLE_EXIT_USAGE || strstr(err, want) == NULL)
		fail_msg("%s ...: got %d \"%s\", want usage error \"%s\"",
		    argv[1], r, err, want);
	assert_null(strchr(err, '\n'));
	options_free(&o);
}

/* "--config optfix_conf" and the NULL-terminated word list. */
static int
optfix_vparse(struct options *o, char *err, size_t errlen, va_list ap)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "cshuttle";
	argv[argc++] = "--config";
	argv[argc++] = optfix_conf;
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	return optfix_parse_resolve(o, argc, argv, err, errlen);
}

int
optfix_parse_conf(struct options *o, char *err, size_t errlen,
    const char *text, ...)
{
	va_list ap;
	int r;

	optfix_write_file("c.conf", text);
	va_start(ap, text);
	r = optfix_vparse(o, err, errlen, ap);
	va_end(ap);
	return r;
}

void
optfix_expect_error(const char *text, int line, const char *want, ...)
{
	struct options o;
	char err[1024], prefix[256];
	va_list ap;
	int r;

	optfix_write_file("c.conf", text);
	va_start(ap, want);
	r = optfix_vparse(&o, err, sizeof(err), ap);
	va_end(ap);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: %s", optfix_conf, line,
		    want);
	else if (line == 0)
		snprintf(prefix, sizeof(prefix), "%s: %s", optfix_conf, want);
	else
		snprintf(prefix, sizeof(prefix), "%s", want);
	if (r != CSHUTTLE_EXIT_USAGE ||
	    (line >= 0 && strncmp(err, prefix, strlen(prefix)) != 0) ||
	    (line < 0 && strstr(err, prefix) == NULL))
		fail_msg("%s: got %d \"%s\", want usage error \"%s\"",
		    text, r, err, prefix);
	assert_null(strchr(err, '\n'));
	options_free(&o);
}

static const char *
optfix_subnet(const struct options *o, size_t i)
{
	static char buf[4][64];
	static int next;
	char *b = buf[next++ % 4];

	assert_true(i < o->subnets.n);
	snprintf(b, sizeof(buf[0]), "%s%s", o->subnets.v[i].exclude ? "!" : "",
	    subnet_format(&o->subnets.v[i], b + 32, 32));
	return b;
}

const char *
optfix_subnets(const struct options *o)
{
	static char out[512];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < o->subnets.n; i++) {
		if (i > 0)
			strcat(out, " ");
		strcat(out, optfix_subnet(o, i));
	}
	return out;
}
