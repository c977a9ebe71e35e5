/* SPDX-License-Identifier: ISC */
/*
 * status.c - `cshuttle status` (status.h).
 *
 * It is handled before the tunnel's option parsing (main.c) and has its
 * own few options.  Without a NAME every *.sock in the control directory
 * is asked, in name order; a socket nobody answers on is a tunnel that
 * died without removing it, and is left out.  Whom we talk to is checked
 * as the tunnel checks us: the peer of the socket (SO_PEERCRED) must be
 * this user or root, so that a socket planted in a directory we were
 * pointed at cannot feed us a status.
 *
 * --watch asks again every STATUS_WATCH_MS.  On a terminal the screen is
 * redrawn in place (cleared and written in one write, so that nothing
 * flickers); otherwise the snapshots follow one another, separated by a
 * blank line, or as one JSON line each.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "err.h"
#include "exitcode.h"
#include "status.h"

/* One tunnel being asked. */
struct status_conn {
	int	fd;
	char	buf[CONTROL_PROTO_MAXREPLY];
	size_t	len;
};

const char *
status_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double	v = (double)n;
	int	u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* Rounding may reach the next unit's 1024: say 1.00 of that. */
	if (v >= 999.5 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v,
	    units[u]);
	return buf;
}

const char *
status_duration(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum %02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh %02llum %02llus", (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llud %02lluh %02llum", (unsigned long long)(s / 86400),
		    (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60));
	return buf;
}

static const char *
status_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

void
status_print_text(FILE *f, const struct control_status *st)
{
	char	a[32], b[32];
	size_t	i;
	bool	first;

	fprintf(f, "tunnel: %s\n", st->name);
	fprintf(f, "  remote: %s", st->remote[0] != '\0' ? st->remote : "?");
	if (st->transport[0] != '\0')
		fprintf(f, " (%s)", st->transport);
	fputc('\n', f);
	if (st->state == CONTROL_STATE_CONNECTED && st->has_session)
		fprintf(f, "  state: connected for %s",
		    status_duration(st->session_s, a, sizeof(a)));
	else
		fprintf(f, "  state: %s", control_state_name(st->state));
	if (st->state == CONTROL_STATE_RECONNECTING && st->attempt > 0)
		fprintf(f, " (attempt %llu)", (unsigned long long)st->attempt);
	fprintf(f, ", %llu reconnect%s\n", (unsigned long long)st->reconnects,
	    status_plural(st->reconnects, "", "s"));
	if (st->last_reason[0] != '\0')
		fprintf(f, "  last lost: %s\n", st->last_reason);
	if (st->last_error[0] != '\0')
		fprintf(f, "  last attempt: %s\n", st->last_error);
	fprintf(f, "  subnets:");
	for (i = 0, first = true; i < st->nsubnets; i++, first = false)
		fprintf(f, "%s%s%s", first ? " " : ", ", st->subnets[i].exclude ? "not " : "",
		    st->subnets[i].text);
	if (st->subnets_omitted > 0)
		fprintf(f, "%s%llu more", st->nsubnets > 0 ? ", and " : " ",
		    (unsigned long long)st->subnets_omitted);
	else if (st->nsubnets == 0)
		fprintf(f, " (none)");
	fputc('\n', f);
	fprintf(f, "  streams: %llu open", (unsigned long long)st->streams);
	if (st->streams_waiting > 0)
		fprintf(f, ", %llu waiting for the session",
		    (unsigned long long)st->streams_waiting);
	fprintf(f, ", %llu in all", (unsigned long long)st->streams_total);
	if (st->streams_failed > 0)
		fprintf(f, ", %llu failed", (unsigned long long)st->streams_failed);
	fputc('\n', f);
	fprintf(f, "  transfer: %s received, %s sent\n",
	    status_bytes(st->bytes_in, a, sizeof(a)), status_bytes(st->bytes_out, b, sizeof(b)));
	fprintf(f, "  rate: %s/s in, %s/s out\n",
	    status_bytes(st->rate_in, a, sizeof(a)), status_bytes(st->rate_out, b, sizeof(b)));
	if (st->has_dns)
		fprintf(f, "  dns: %llu quer%s, %llu failed\n",
		    (unsigned long long)st->dns_queries,
		    status_plural(st->dns_queries, "y", "ies"),
		    (unsigned long long)st->dns_failures);
	if (st->has_udp)
		fprintf(f, "  udp: %llu flow%s open, %llu in all\n"
		    "  udp datagrams: %llu out, %llu in; dropped %llu here, %llu by "
		    "the remote\n",
		    (unsigned long long)st->udp_flows, status_plural(st->udp_flows, "", "s"),
		    (unsigned long long)st->udp_flows_total,
		    (unsigned long long)st->udp_dgrams_out,
		    (unsigned long long)st->udp_dgrams_in,
		    (unsigned long long)st->udp_dropped_local,
		    (unsigned long long)st->udp_dropped_remote);
	fprintf(f, "  process: %llu, cshuttle %s, up %s\n", (unsigned long long)st->pid,
	    st->version[0] != '\0' ? st->version : "?",
	    status_duration(st->uptime_s, a, sizeof(a)));
}

/* A JSON string: the protocol's strings are printable ASCII already;
 * '"' and '\\' are escaped, anything else below 0x20 too, for safety. */
static void
status_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A string, or null when it is empty (absent from the reply). */
static void
status_json_opt(FILE *f, const char *key, const char *v)
{
	fprintf(f, ",\"%s\":", key);
	if (*v == '\0')
		fputs("null", f);
	else
		status_json_str(f, v);
}

void
status_print_json(FILE *f, const struct control_status *st)
{
	size_t	i;

	fputs("{\"name\":", f);
	status_json_str(f, st->name);
	fprintf(f, ",\"pid\":%llu", (unsigned long long)st->pid);
	status_json_opt(f, "version", st->version);
	status_json_opt(f, "remote", st->remote);
	status_json_opt(f, "transport", st->transport);
	fprintf(f, ",\"state\":\"%s\"", control_state_name(st->state));
	fprintf(f, ",\"uptime\":%llu", (unsigned long long)st->uptime_s);
	if (st->has_session)
		fprintf(f, ",\"session_uptime\":%llu", (unsigned long long)st->session_s);
	else
		fputs(",\"session_uptime\":null", f);
	fprintf(f, ",\"reconnects\":%llu,\"attempt\":%llu", (unsigned long long)st->reconnects,
	    (unsigned long long)st->attempt);
	status_json_opt(f, "last_reason", st->last_reason);
	status_json_opt(f, "last_error", st->last_error);
	fputs(",\"subnets\":[", f);
	for (i = 0; i < st->nsubnets; i++) {
		fprintf(f, "%s{\"subnet\":", i > 0 ? "," : "");
		status_json_str(f, st->subnets[i].text);
		fprintf(f, ",\"exclude\":%s}", st->subnets[i].exclude ? "true" : "false");
	}
	fprintf(f, "],\"subnets_omitted\":%llu", (unsigned long long)st->subnets_omitted);
	fprintf(f, ",\"streams\":{\"open\":%llu,\"waiting\":%llu,\"total\":%llu,\"failed\":%llu}",
	    (unsigned long long)st->streams, (unsigned long long)st->streams_waiting,
	    (unsigned long long)st->streams_total, (unsigned long long)st->streams_failed);
	fprintf(f, ",\"bytes\":{\"in\":%llu,\"out\":%llu}", (unsigned long long)st->bytes_in,
	    (unsigned long long)st->bytes_out);
	fprintf(f, ",\"rate\":{\"in\":%llu,\"out\":%llu}", (unsigned long long)st->rate_in,
	    (unsigned long long)st->rate_out);
	if (st->has_dns)
		fprintf(f, ",\"dns\":{\"queries\":%llu,\"failures\":%llu}",
		    (unsigned long long)st->dns_queries, (unsigned long long)st->dns_failures);
	else
		fputs(",\"dns\":null", f);
	if (st->has_udp)
		fprintf(f, ",\"udp\":{\"flows\":%llu,\"total\":%llu,\"datagrams_out\":%llu,"
		    "\"datagrams_in\":%llu,\"dropped_local\":%llu,\"dropped_remote\":%llu}",
		    (unsigned long long)st->udp_flows, (unsigned long long)st->udp_flows_total,
		    (unsigned long long)st->udp_dgrams_out,
		    (unsigned long long)st->udp_dgrams_in,
		    (unsigned long long)st->udp_dropped_local,
		    (unsigned long long)st->udp_dropped_remote);
	else
		fputs(",\"udp\":null", f);
	fputc('}', f);
}

/* ---- talking to a tunnel ---- */

/* Read until buf holds a line (greeting) or a whole reply; bounded by
 * STATUS_TIMEOUT_MS.  Returns the length of what was asked for, or -1. */
static int
status_read(struct status_conn *c, bool greeting, char *err, size_t errlen)
{
	struct pollfd	pfd;
	uint64_t	deadline = clock_ms() + STATUS_TIMEOUT_MS;
	const char	*nl;
	ssize_t		n;
	int		r, left;

	for (;;) {
		if (greeting) {
			if ((nl = memchr(c->buf, '\n', c->len)) != NULL)
				return (int)(nl - c->buf) + 1;
			if (c->len >= CONTROL_PROTO_MAXLINE)
				return err_set(err, errlen, -1, "not a cshuttle control socket");
		} else if ((r = control_proto_reply_len(c->buf, c->len)) != 0) {
			if (r < 0)
				return err_set(err, errlen, -1, "%s", control_proto_strerror(r));
			return r;
		}
		if ((left = (int)(deadline > clock_ms() ? deadline - clock_ms() : 0)) == 0)
			return err_set(err, errlen, -1, "no answer within %d s",
			    STATUS_TIMEOUT_MS / 1000);
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left) == -1 && errno != EINTR)
			return err_set(err, errlen, -1, "poll: %s", strerror(errno));
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
		if (n == 0)
			return err_set(err, errlen, -1, "the tunnel closed the connection");
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			return err_set(err, errlen, -1, "%s", strerror(errno));
		}
		c->len += (size_t)n;
	}
}

static void
status_consume(struct status_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/*
 * Connect to path and take the greeting.  0; 1 when nobody listens there
 * (no socket, or a stale one); -1 with a reason.
 */
static int
status_connect(struct status_conn *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	struct ucred		cred;
	socklen_t		len = sizeof(cred);
	int			n, r;

	c->len = 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return err_set(err, errlen, -1, "%s: path too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_set(err, errlen, -1, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		r = errno == ECONNREFUSED || errno == ENOENT ? 1 : -1;
		err_set(err, errlen, -1, "cannot connect to %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Root may ask anybody's tunnel; others only their own or root's. */
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    (geteuid() != 0 && cred.uid != geteuid() && cred.uid != 0)) {
		r = -1;
		err_set(err, errlen, -1, "%s belongs to another user (uid %d): not asked",
		    path, (int)cred.uid);
		goto fail;
	}
	if ((n = status_read(c, true, err, errlen)) < 0) {
		r = -1;
		goto fail;
	}
	if ((r = control_proto_parse_greeting(c->buf, (size_t)n - 1)) < 0) {
		/* A busy tunnel says "error busy" instead. */
		if (strncmp(c->buf, "error ", 6) == 0)
			err_set(err, errlen, -1, "%.*s: %.*s", (int)strlen(path), path,
			    n - 7, c->buf + 6);
		else
			err_set(err, errlen, -1, "%s: %s", path, control_proto_strerror(r));
		r = -1;
		goto fail;
	}
	status_consume(c, (size_t)n);
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return r;
}

static int
status_ask(struct status_conn *c, struct control_status *st, char *err, size_t errlen)
{
	char	why[256];
	int	n, r;

	if (send(c->fd, "status\n", 7, MSG_NOSIGNAL) != 7)
		return err_set(err, errlen, -1, "%s", strerror(errno));
	if ((n = status_read(c, false, err, errlen)) < 0)
		return -1;
	if ((r = control_proto_parse(c->buf, (size_t)n, st, why, sizeof(why))) != 0)
		return err_set(err, errlen, -1, "%s", why);
	status_consume(c, (size_t)n);
	return 0;
}

static void
status_close(struct status_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* ---- the tunnels there are ---- */

static int
status_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names with a socket in dir, sorted; *n of them (at most max). */
static int
status_names(const char *dir, char **names, size_t max, size_t *n, char *err,
    size_t errlen)
{
	struct dirent	*e;
	DIR		*d;
	size_t		 len, slen = strlen(CONTROL_SUFFIX);
	char		 name[CONTROL_NAME_MAX + 1];

	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, errlen, -1, "cannot read %s: %s", dir, strerror(errno));
	}
	while ((e = readdir(d)) != NULL && *n < max) {
		len = strlen(e->d_name);
		if (len <= slen || len - slen > CONTROL_NAME_MAX ||
		    strcmp(e->d_name + len - slen, CONTROL_SUFFIX) != 0)
			continue;
		memcpy(name, e->d_name, len - slen);
		name[len - slen] = '\0';
		if (!control_proto_name_ok(name) || (names[*n] = strdup(name)) == NULL)
			continue;
		(*n)++;
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), status_cmp);
	return 0;
}

/* ---- the command ---- */

/* All of it, or as much as stdout takes (a closed pipe ends us anyway). */
static void
status_write(const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(STDOUT_FILENO, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

struct status_opts {
	const char	*name;
	bool		 json, watch, tty;
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void
status_usage(FILE *f)
{
	fputs("usage: cshuttle status [--json] [--watch] [NAME]\n"
	    "\n"
	    "Show the running tunnels (or the one named NAME): remote, state,\n"
	    "subnets, streams, bytes and rates, DNS.\n"
	    "\n"
	    "  -j, --json   one JSON object per tunnel (NAME), or an array\n"
	    "  -w, --watch  refresh every second (in place on a terminal)\n"
	    "  -h, --help   show this help and exit\n", f);
}

/*
 * One round: every tunnel asked, printed into out.  *conn keeps the
 * connection to a named tunnel between rounds.  Returns the exit status.
 */
static int
status_round(const struct status_opts *o, struct status_conn *named, FILE *out)
{
	struct control_status	*st;
	struct status_conn	*c = NULL;
	char			*names[STATUS_MAX_TUNNELS], path[sizeof(o->dir) + 80];
	char			 err[512];
	size_t			 n = 0, i, shown = 0;
	int			 rc = CSHUTTLE_EXIT_OK, r;

	if ((st = malloc(sizeof(*st))) == NULL ||
	    (o->name == NULL && (c = malloc(sizeof(*c))) == NULL)) {
		fprintf(stderr, "cshuttle: out of memory\n");
		free(st);
		return CSHUTTLE_EXIT_FAIL;
	}
	if (o->name != NULL) {
		snprintf(path, sizeof(path), "%s/%s%s", o->dir, o->name, CONTROL_SUFFIX);
		if (named->fd == -1 && (r = status_connect(named, path, err, sizeof(err))) != 0) {
			if (r == 1)
				fprintf(stderr, "cshuttle: no tunnel named \"%s\" is running "
				    "(no one answers on %s)\n", o->name, path);
			else
				fprintf(stderr, "cshuttle: %s\n", err);
			rc = CSHUTTLE_EXIT_FAIL;
			goto out;
		}
		if (status_ask(named, st, err, sizeof(err)) != 0) {
			fprintf(stderr, "cshuttle: %s: %s\n", o->name, err);
			status_close(named);
			rc = CSHUTTLE_EXIT_FAIL;
			goto out;
		}
		if (o->json)
			status_print_json(out, st);
		else
			status_print_text(out, st);
		if (o->json)
			fputc('\n', out);
		goto out;
	}
	if (status_names(o->dir, names, STATUS_MAX_TUNNELS, &n, err, sizeof(err)) != 0) {
		fprintf(stderr, "cshuttle: %s\n", err);
		rc = CSHUTTLE_EXIT_FAIL;
		goto out;
	}
	if (o->json)
		fputc('[', out);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s%s", o->dir, names[i], CONTROL_SUFFIX);
		if ((r = status_connect(c, path, err, sizeof(err))) == 1)
			continue;	/* stale: its tunnel died */
		if (r == 0 && (r = status_ask(c, st, err, sizeof(err))) != 0)
			status_close(c);
		if (r != 0) {
			fprintf(stderr, "cshuttle: %s: %s\n", names[i], err);
			rc = CSHUTTLE_EXIT_FAIL;
			continue;
		}
		status_close(c);
		if (o->json) {
			if (shown > 0)
				fputc(',', out);
			status_print_json(out, st);
		} else {
			if (shown > 0)
				fputc('\n', out);
			status_print_text(out, st);
		}
		shown++;
	}
	if (o->json)
		fputs("]\n", out);
	else if (shown == 0 && rc == CSHUTTLE_EXIT_OK)
		fprintf(out, "no tunnel is running\n");
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(st);
	free(c);
	return rc;
}

int
status_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "watch",	no_argument,	NULL, 'w' },
		{ "help",	no_argument,	NULL, 'h' },
		{ NULL,		0,		NULL, 0 },
	};
	struct status_opts	 o;
	struct status_conn	*named;
	struct timespec		 ts;
	char			*text = NULL, err[512];
	size_t			 textlen = 0;
	FILE			*mem;
	int			 c, rc, rounds = 0;

	memset(&o, 0, sizeof(o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jwh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'w':
			o.watch = true;
			break;
		case 'h':
			status_usage(stdout);
			return CSHUTTLE_EXIT_OK;
		default:
			fprintf(stderr, "cshuttle status: unknown option %s (see cshuttle "
			    "status --help)\n", argv[optind - 1]);
			return CSHUTTLE_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "cshuttle status: one NAME at most (see cshuttle status "
		    "--help)\n");
		return CSHUTTLE_EXIT_USAGE;
	}
	if (optind < argc) {
		o.name = argv[optind];
		if (!control_proto_name_ok(o.name)) {
			fprintf(stderr, "cshuttle status: \"%s\" is not a tunnel name\n",
			    o.name);
			return CSHUTTLE_EXIT_USAGE;
		}
	}
	if (control_dir(o.dir, sizeof(o.dir), false, err, sizeof(err)) != 0) {
		fprintf(stderr, "cshuttle: %s\n", err);
		return CSHUTTLE_EXIT_FAIL;
	}
	if ((named = malloc(sizeof(*named))) == NULL) {
		fprintf(stderr, "cshuttle: out of memory\n");
		return CSHUTTLE_EXIT_FAIL;
	}
	named->fd = -1;
	o.tty = isatty(STDOUT_FILENO);
	for (;;) {
		/* The whole round first, then one write(2): the clearing and
		 * the new text reach the terminal together, so nothing
		 * flickers. */
		if ((mem = open_memstream(&text, &textlen)) == NULL) {
			fprintf(stderr, "cshuttle: out of memory\n");
			rc = CSHUTTLE_EXIT_FAIL;
			break;
		}
		if (o.watch && o.tty)
			fputs("\033[H\033[2J", mem);
		else if (o.watch && !o.json && rounds > 0)
			fputc('\n', mem);
		rc = status_round(&o, named, mem);
		fclose(mem);
		status_write(text, textlen);
		free(text);
		text = NULL;
		rounds++;
		/* A named tunnel that went away ends the watch. */
		if (!o.watch || (o.name != NULL && rc != CSHUTTLE_EXIT_OK))
			break;
		ts.tv_sec = STATUS_WATCH_MS / 1000;
		ts.tv_nsec = (long)(STATUS_WATCH_MS % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	status_close(named);
	free(named);
	return rc;
}
