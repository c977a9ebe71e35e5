/* SPDX-License-Identifier: ISC */
/*
 * control_proto.c - the control protocol's lines (control_proto.h,
 * docs/CONTROL.md): greeting, requests, the status reply both ways.
 *
 * The reply parser reads what another process wrote, so it checks every
 * line's length, every key's value and every limit, and is fuzzed
 * (tests/fuzz/fuzz_control.c) together with the request parser and the
 * formatter, whose output it must read back unchanged.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"
#include "err.h"

#define CONTROL_MAGIC	"cshuttle-control"

/* How a key's value is read and where it goes. */
enum control_kind {
	CONTROL_K_U64,
	CONTROL_K_STR,		/* into a char array of `size` bytes */
	CONTROL_K_STATE,
	CONTROL_K_SUBNET,	/* "include"/"exclude": repeated */
};

struct control_key {
	const char		*name;
	enum control_kind	 kind;
	size_t			 off;		/* in struct control_status */
	size_t			 size;		/* CONTROL_K_STR: the array's */
	size_t			 flag;		/* offset of a has_* flag it sets, or 0 */
	int			 bit;		/* for the duplicate check */
};

#define CK_U(k, f)		{ k, CONTROL_K_U64, offsetof(struct control_status, f), 0, 0, 0 }
#define CK_UF(k, f, h)		{ k, CONTROL_K_U64, offsetof(struct control_status, f), 0, \
				  offsetof(struct control_status, h), 0 }
#define CK_S(k, f)		{ k, CONTROL_K_STR, offsetof(struct control_status, f), \
				  sizeof(((struct control_status *)0)->f), 0, 0 }

/* Version 1's keys, in the order the formatter writes them. */
static const struct control_key control_keys[] = {
	CK_S("name", name),
	CK_U("pid", pid),
	CK_S("version", version),
	CK_S("remote", remote),
	CK_S("transport", transport),
	{ "state", CONTROL_K_STATE, 0, 0, 0, 0 },
	CK_U("uptime", uptime_s),
	CK_UF("session_uptime", session_s, has_session),
	CK_U("reconnects", reconnects),
	CK_U("attempt", attempt),
	CK_S("last_reason", last_reason),
	CK_S("last_error", last_error),
	{ "include", CONTROL_K_SUBNET, 0, 0, 0, 0 },
	{ "exclude", CONTROL_K_SUBNET, 0, 0, 0, 0 },
	CK_U("subnets_omitted", subnets_omitted),
	CK_U("streams", streams),
	CK_U("streams_waiting", streams_waiting),
	CK_U("streams_total", streams_total),
	CK_U("streams_failed", streams_failed),
	CK_U("bytes_in", bytes_in),
	CK_U("bytes_out", bytes_out),
	CK_U("rate_in", rate_in),
	CK_U("rate_out", rate_out),
	CK_UF("dns_queries", dns_queries, has_dns),
	CK_UF("dns_failures", dns_failures, has_dns),
	CK_UF("udp_flows", udp_flows, has_udp),
	CK_UF("udp_flows_total", udp_flows_total, has_udp),
	CK_UF("udp_datagrams_out", udp_dgrams_out, has_udp),
	CK_UF("udp_datagrams_in", udp_dgrams_in, has_udp),
	CK_UF("udp_dropped_local", udp_dropped_local, has_udp),
	CK_UF("udp_dropped_remote", udp_dropped_remote, has_udp),
};
#define CONTROL_NKEYS	(sizeof(control_keys) / sizeof(control_keys[0]))

static const char *const control_state_names[] = {
	[CONTROL_STATE_CONNECTING] = "connecting",
	[CONTROL_STATE_CONNECTED] = "connected",
	[CONTROL_STATE_RECONNECTING] = "reconnecting",
};

const char *
control_proto_strerror(int code)
{
	switch (code) {
	case CONTROL_E_INVAL:
		return "not a valid control protocol message";
	case CONTROL_E_VERSION:
		return "another version of the control protocol";
	case CONTROL_E_TOOBIG:
		return "over the control protocol's limits";
	case CONTROL_E_UNKNOWN:
		return "unknown request";
	case CONTROL_E_REMOTE:
		return "the tunnel refused the request";
	}
	return "unknown error";
}

const char *
control_state_name(enum control_state st)
{
	if ((size_t)st < sizeof(control_state_names) / sizeof(control_state_names[0]))
		return control_state_names[st];
	return "unknown";
}

bool
control_proto_name_ok(const char *name)
{
	size_t	i, n = strlen(name);

	if (n == 0 || n > CONTROL_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("._@+-", name[i]) == NULL)
			return false;
	return true;
}

/* "123": no sign, no leading zero, within 64 bits. */
static int
control_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return CONTROL_E_INVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return CONTROL_E_INVAL;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return CONTROL_E_INVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool
control_printable(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

int
control_proto_greeting(char *out, size_t outlen)
{
	int	n = snprintf(out, outlen, CONTROL_MAGIC " %d\n", CONTROL_PROTO_VERSION);

	return n < 0 || (size_t)n >= outlen ? CONTROL_E_TOOBIG : n;
}

int
control_proto_parse_greeting(const char *line, size_t len)
{
	const size_t	mlen = sizeof(CONTROL_MAGIC) - 1;
	uint64_t	v;

	if (len <= mlen + 1 || memcmp(line, CONTROL_MAGIC, mlen) != 0 || line[mlen] != ' ')
		return CONTROL_E_INVAL;
	if (control_u64(line + mlen + 1, len - mlen - 1, &v) != 0 || v == 0)
		return CONTROL_E_INVAL;
	if (v != CONTROL_PROTO_VERSION)
		return CONTROL_E_VERSION;
	return (int)v;
}

int
control_proto_request(const char *line, size_t len)
{
	if (len >= CONTROL_PROTO_MAXREQ)
		return CONTROL_E_TOOBIG;
	if (len == 6 && memcmp(line, "status", 6) == 0)
		return CONTROL_REQ_STATUS;
	if (!control_printable(line, len))
		return CONTROL_E_INVAL;
	return CONTROL_E_UNKNOWN;
}

/* ---- formatting ---- */

struct control_out {
	char	*p;
	size_t	 len, cap;
	bool	 full;
};

static void __attribute__((format(printf, 2, 3)))
control_put(struct control_out *o, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* A string value: cut to what the field holds, made printable. */
static void
control_put_str(struct control_out *o, const char *key, const char *v, size_t max)
{
	char	buf[CONTROL_TEXT_MAX];
	size_t	i;

	if (max > sizeof(buf))
		max = sizeof(buf);
	for (i = 0; i + 1 < max && v[i] != '\0'; i++)
		buf[i] = (unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e ? '?' : v[i];
	buf[i] = '\0';
	control_put(o, "%s %s\n", key, buf);
}

int
control_proto_format(const struct control_status *st, char *out, size_t outlen)
{
	struct control_out		 o = { out, 0, outlen, false };
	const struct control_key	*k;
	const char			*base = (const char *)st;
	size_t				 i, j;

	if (outlen == 0)
		return CONTROL_E_TOOBIG;
	control_put(&o, "status\n");
	for (i = 0; i < CONTROL_NKEYS; i++) {
		k = &control_keys[i];
		if (k->flag != 0 && !*(const bool *)(base + k->flag))
			continue;
		switch (k->kind) {
		case CONTROL_K_U64:
			control_put(&o, "%s %llu\n", k->name,
			    (unsigned long long)*(const uint64_t *)(base + k->off));
			break;
		case CONTROL_K_STR:
			/* Empty strings are left out: absent means "none". */
			if (*(base + k->off) != '\0')
				control_put_str(&o, k->name, base + k->off, k->size);
			break;
		case CONTROL_K_STATE:
			control_put(&o, "state %s\n", control_state_name(st->state));
			break;
		case CONTROL_K_SUBNET:
			/* Both keys in one pass, in the list's order. */
			if (strcmp(k->name, "include") != 0)
				break;
			for (j = 0; j < st->nsubnets && j < CONTROL_MAX_SUBNETS; j++)
				if (st->subnets[j].text[0] != '\0')
					control_put_str(&o, st->subnets[j].exclude ?
					    "exclude" : "include", st->subnets[j].text,
					    sizeof(st->subnets[j].text));
			break;
		}
	}
	control_put(&o, "end\n");
	return o.full ? CONTROL_E_TOOBIG : (int)o.len;
}

int
control_proto_format_error(const char *text, char *out, size_t outlen)
{
	struct control_out	o = { out, 0, outlen, false };

	if (outlen == 0)
		return CONTROL_E_TOOBIG;
	control_put_str(&o, "error", text, CONTROL_PROTO_MAXLINE - 8);
	return o.full ? CONTROL_E_TOOBIG : (int)o.len;
}

/* ---- parsing ---- */

int
control_proto_reply_len(const char *buf, size_t len)
{
	const char	*line = buf, *nl;
	size_t		 left = len, n;
	bool		 first = true;

	while ((nl = memchr(line, '\n', left)) != NULL) {
		n = (size_t)(nl - line);
		if (n + 1 > CONTROL_PROTO_MAXLINE)
			return CONTROL_E_TOOBIG;
		if ((size_t)(nl + 1 - buf) > CONTROL_PROTO_MAXREPLY)
			return CONTROL_E_TOOBIG;
		if ((n == 3 && memcmp(line, "end", 3) == 0) ||
		    (first && n >= 5 && memcmp(line, "error", 5) == 0 &&
		    (n == 5 || line[5] == ' ')))
			return (int)(nl + 1 - buf);
		first = false;
		left -= n + 1;
		line = nl + 1;
	}
	if (left + 1 > CONTROL_PROTO_MAXLINE || len > CONTROL_PROTO_MAXREPLY)
		return CONTROL_E_TOOBIG;
	return 0;
}

static int
control_parse_subnet(struct control_status *st, bool exclude, const char *v, size_t vlen,
    char *err, size_t errlen)
{
	struct control_subnet	*s;

	if (st->nsubnets == CONTROL_MAX_SUBNETS)
		return err_set(err, errlen, CONTROL_E_TOOBIG, "more than %d subnets",
		    CONTROL_MAX_SUBNETS);
	if (vlen == 0 || vlen >= sizeof(s->text))
		return err_set(err, errlen, CONTROL_E_INVAL, "bad subnet");
	s = &st->subnets[st->nsubnets++];
	s->exclude = exclude;
	memcpy(s->text, v, vlen);
	s->text[vlen] = '\0';
	return 0;
}

/* One "key value" line into st. */
static int
control_parse_field(struct control_status *st, const char *line, size_t len,
    uint32_t *seen, char *err, size_t errlen)
{
	const struct control_key	*k = NULL;
	const char			*sp, *v;
	char				*base = (char *)st;
	size_t				 klen, vlen, i;
	uint64_t			 u;

	if ((sp = memchr(line, ' ', len)) == NULL)
		return err_set(err, errlen, CONTROL_E_INVAL, "a line without a value");
	klen = (size_t)(sp - line);
	v = sp + 1;
	vlen = len - klen - 1;
	if (klen == 0)
		return err_set(err, errlen, CONTROL_E_INVAL, "an empty key");
	for (i = 0; i < klen; i++)
		if (!(line[i] >= 'a' && line[i] <= 'z') && !(line[i] >= '0' && line[i] <= '9') &&
		    line[i] != '_')
			return err_set(err, errlen, CONTROL_E_INVAL, "a bad key");
	for (i = 0; i < CONTROL_NKEYS; i++)
		if (strlen(control_keys[i].name) == klen &&
		    memcmp(control_keys[i].name, line, klen) == 0)
			k = &control_keys[i];
	/* A newer tunnel's field: the value must still be a line of text. */
	if (k == NULL) {
		if (!control_printable(v, vlen))
			return err_set(err, errlen, CONTROL_E_INVAL, "a value that is "
			    "not printable");
		return 0;
	}
	if (!control_printable(v, vlen))
		return err_set(err, errlen, CONTROL_E_INVAL, "%s: not printable", k->name);
	if (k->kind != CONTROL_K_SUBNET) {
		i = (size_t)(k - control_keys);
		if (*seen & (1U << i))
			return err_set(err, errlen, CONTROL_E_INVAL, "%s twice", k->name);
		*seen |= 1U << i;
	}
	switch (k->kind) {
	case CONTROL_K_U64:
		if (control_u64(v, vlen, &u) != 0)
			return err_set(err, errlen, CONTROL_E_INVAL, "%s: not a number",
			    k->name);
		*(uint64_t *)(base + k->off) = u;
		if (k->flag != 0)
			*(bool *)(base + k->flag) = true;
		return 0;
	case CONTROL_K_STR:
		if (vlen == 0 || vlen >= k->size)
			return err_set(err, errlen, CONTROL_E_INVAL, "%s: %s", k->name,
			    vlen == 0 ? "empty" : "too long");
		memcpy(base + k->off, v, vlen);
		base[k->off + vlen] = '\0';
		if (k->off == offsetof(struct control_status, name) &&
		    !control_proto_name_ok(st->name))
			return err_set(err, errlen, CONTROL_E_INVAL, "name: not a tunnel name");
		return 0;
	case CONTROL_K_STATE:
		for (i = 0; i < sizeof(control_state_names) / sizeof(control_state_names[0]); i++)
			if (strlen(control_state_names[i]) == vlen &&
			    memcmp(control_state_names[i], v, vlen) == 0) {
				st->state = (enum control_state)i;
				return 0;
			}
		return err_set(err, errlen, CONTROL_E_INVAL, "state: unknown");
	case CONTROL_K_SUBNET:
		return control_parse_subnet(st, k->name[0] == 'e', v, vlen, err, errlen);
	}
	return err_set(err, errlen, CONTROL_E_INVAL, "internal error");
}

static int
control_key_index(const char *name)
{
	size_t	i;

	for (i = 0; i < CONTROL_NKEYS; i++)
		if (strcmp(control_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
control_proto_parse(const char *text, size_t len, struct control_status *st, char *err,
    size_t errlen)
{
	const char	*line = text, *nl;
	size_t		 left = len, n;
	uint32_t	 seen = 0;
	int		 r, lineno = 0;

	memset(st, 0, sizeof(*st));
	if (errlen > 0)
		err[0] = '\0';
	if (len > CONTROL_PROTO_MAXREPLY)
		return err_set(err, errlen, CONTROL_E_TOOBIG, "a reply over %d bytes",
		    CONTROL_PROTO_MAXREPLY);
	while (left > 0) {
		if ((nl = memchr(line, '\n', left)) == NULL)
			return err_set(err, errlen, CONTROL_E_INVAL, "a line without its end");
		n = (size_t)(nl - line);
		lineno++;
		if (n + 1 > CONTROL_PROTO_MAXLINE)
			return err_set(err, errlen, CONTROL_E_TOOBIG, "a line over %d bytes",
			    CONTROL_PROTO_MAXLINE);
		if (lineno == 1) {
			if (n >= 5 && memcmp(line, "error", 5) == 0 && (n == 5 || line[5] == ' ')) {
				if (nl + 1 != text + len)
					return err_set(err, errlen, CONTROL_E_INVAL,
					    "bytes after the reply");
				if (!control_printable(line, n))
					return err_set(err, errlen, CONTROL_E_INVAL,
					    "error: not printable");
				return err_set(err, errlen, CONTROL_E_REMOTE, "%.*s",
				    n > 6 ? (int)(n - 6) : 0, line + 6);
			}
			if (n != 6 || memcmp(line, "status", 6) != 0)
				return err_set(err, errlen, CONTROL_E_INVAL, "not a status reply");
		} else if (n == 3 && memcmp(line, "end", 3) == 0) {
			if (nl + 1 != text + len)
				return err_set(err, errlen, CONTROL_E_INVAL, "bytes after the reply");
			if (!(seen & (1U << control_key_index("name"))) ||
			    !(seen & (1U << control_key_index("state"))))
				return err_set(err, errlen, CONTROL_E_INVAL, "no %s in the reply",
				    !(seen & (1U << control_key_index("name"))) ? "name" : "state");
			return 0;
		} else if ((r = control_parse_field(st, line, n, &seen, err, errlen)) != 0)
			return r;
		left -= n + 1;
		line = nl + 1;
	}
	return err_set(err, errlen, CONTROL_E_INVAL, "a reply without its end");
}
