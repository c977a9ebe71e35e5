/* SPDX-License-Identifier: ISC */
/*
 * fuzz_config.c - the configuration file is not network input, but root
 * parses it, at start and again on every SIGHUP: no file may crash the
 * parser, every entry it yields must be a clean (key, value, line), and
 * whatever options_parse() accepts from it, its host names resolved as
 * main.c does, must satisfy the checks the rest of the client relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dns_resolve.h"
#include "exitcode.h"
#include "options.h"
#include "resolve.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Host names never reach the network; one has an answer. */
static int
fuzz_resolve(const char *name, int family, int timeout_ms,
    struct addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (strcmp(name, "web.test") == 0 && max > 0) {
		memset(out, 0, sizeof(*out));
		out->family = 4;
		out->bytes[0] = 192;
		out->bytes[3] = 9;
		*n = 1;
		return 0;
	}
	strncpy(err, "not found", errlen);
	if (errlen > 0)
		err[errlen - 1] = '\0';
	return DNS_E_NOTFOUND;
}

static void
fuzz_check_clean(const char *s, int allow_inner_space)
{
	size_t i, len = strlen(s);

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			abort();
		if (!allow_inner_space && (ch == ' ' || ch == '\t' || ch == '='))
			abort();
	}
	if (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		*argv[] = { "cshuttle", NULL };
	struct config		 c;
	struct options		 o;
	const char		*text = (const char *)data;
	char			 err[1024];
	size_t			 i, includes = 0;
	int			 last = 0, r;

	dns_resolve_set_hook(fuzz_resolve);
	unsetenv(OPTIONS_ENV);

	r = config_parse(&c, "fuzz.conf", NULL, text, size, err, sizeof(err));
	if (r == 0) {
		for (i = 0; i < c.n; i++) {
			if (c.v[i].key[0] == '\0' || c.v[i].line <= last ||
			    c.v[i].line > CONFIG_MAX_LINES)
				abort();
			last = c.v[i].line;
			fuzz_check_clean(c.v[i].key, 0);
			if (c.v[i].value != NULL)
				fuzz_check_clean(c.v[i].value, 1);
		}
	} else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		abort();
	config_free(&c);

	/* It would read the files it names: /dev/stdin would hang. */
	if (memmem(data, size, "exclude-from", 12) != NULL)
		return 0;
	r = options_parse_text(&o, "fuzz.conf", text, size, 1, argv, err,
	    sizeof(err));
	if (r == CSHUTTLE_EXIT_OK)
		r = resolve_options(&o, NULL, err, sizeof(err));
	if (r == CSHUTTLE_EXIT_OK) {
		if (o.nnames != 0 || subnet_list_has_names(&o.subnets))
			abort();
		for (i = 0; i < o.subnets.n; i++)
			includes += !o.subnets.v[i].exclude;
		if (o.remote == NULL || includes == 0 ||
		    o.alive_interval_ms < 1000 ||
		    o.alive_interval_ms >= o.alive_timeout_ms ||
		    o.alive_timeout_ms > OPTIONS_ALIVE_MAX_S * 1000 ||
		    o.verbose < 0 || o.verbose > 3 ||
		    o.nlisten < 1 || o.nlisten > OPTIONS_MAX_LISTEN ||
		    o.nns_hosts > OPTIONS_MAX_NS || o.nto_ns > OPTIONS_MAX_NS ||
		    o.ndns_domains > OPTIONS_MAX_DNS_DOMAINS ||
		    o.firewall || o.show_help || o.show_version ||
		    o.config == NULL)
			abort();
		if (o.pidfile != NULL && o.pidfile[0] != '/')
			abort();
	} else if (r != CSHUTTLE_EXIT_USAGE || err[0] == '\0' ||
	    strchr(err, '\n') != NULL)
		abort();
	options_free(&o);
	return 0;
}
