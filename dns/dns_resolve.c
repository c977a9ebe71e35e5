/* SPDX-License-Identifier: ISC */
/*
 * dns_resolve.c - blocking name resolution with a hard deadline, on c-ares.
 *
 * getaddrinfo() cannot be bounded: with a dead server glibc waits for
 * every retry of every nameserver.  c-ares lets us own the wait, so each
 * lookup gets a private channel, a poll() loop over the sockets c-ares
 * reports through its socket-state callback, and one monotonic deadline.
 * (ares_fds()/ares_process() are select()-based and deprecated, and
 * ares_getsock() is deprecated from 1.20, so the callback is the portable
 * way to learn the descriptors on 1.18.1 and later.)
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "dns_resolve.h"

/* c-ares opens one UDP and maybe one TCP socket per server, and
 * resolv.conf allows three servers: 16 leaves room. */
#define DNS_MAX_FDS	16

struct dns_lookup {
	struct pollfd		 pfd[DNS_MAX_FDS];
	int			 npfd;
	bool			 overflow;	/* c-ares had more sockets than pfd[] */
	bool			 done;
	int			 status;	/* ARES_* of the finished query */
	struct ares_addrinfo	*res;
};

static pthread_once_t	 dns_once = PTHREAD_ONCE_INIT;
static int		 dns_init_status = ARES_ENOTINITIALIZED;
static dns_resolve_fn	 dns_hook;	/* dns_resolve_set_hook() */

static void
dns_library_init(void)
{
	dns_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/*
 * Reject what can never be a host name before c-ares sees it: 1.18.1
 * leaks memory on over-long names, and a space or a control character
 * in a name is a caller's bug better reported than looked up.  Numeric
 * IPv6 addresses (with ':' and maybe '%' scope) pass as they are.
 */
static bool
dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;
	const char *p;

	if (len == 0 || len > 254 || (len == 254 && name[253] != '.'))
		return false;
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
		if (*p == '.') {
			if (label == 0 && p[1] != '\0')
				return false;	/* empty label */
			label = 0;
		} else if (++label > 63 && strchr(name, ':') == NULL)
			return false;
	}
	return true;
}

/*
 * Answer numeric addresses here: c-ares 1.18.1 sends an IPv4 literal
 * asked for with AF_UNSPEC to the DNS servers as a name.  Returns 1 when
 * `name` is not numeric, else 0 or DNS_E_NOTFOUND (wrong family).
 */
static int
dns_numeric(const char *name, int family, struct addr *out, size_t *n,
    char *err, size_t errlen)
{
	struct addr	a;
	uint8_t		b[16];

	if (inet_pton(AF_INET, name, b) == 1)
		addr_set(&a, ADDR_V4, b, 0);
	else if (inet_pton(AF_INET6, name, b) == 1)
		addr_set(&a, ADDR_V6, b, 0);
	else
		return 1;
	if ((family == AF_INET && a.family != ADDR_V4) ||
	    (family == AF_INET6 && a.family != ADDR_V6)) {
		snprintf(err, errlen, "not an IPv%d address",
		    family == AF_INET ? 4 : 6);
		return DNS_E_NOTFOUND;
	}
	out[0] = a;
	*n = 1;
	return 0;
}

/* Keep lk->pfd[] in step with the sockets c-ares wants watched. */
static void
dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_lookup *lk = data;
	short events = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
	int i;

	for (i = 0; i < lk->npfd; i++)
		if (lk->pfd[i].fd == fd)
			break;
	if (events == 0) {
		if (i < lk->npfd)
			lk->pfd[i] = lk->pfd[--lk->npfd];
		return;
	}
	if (i == lk->npfd) {
		if (lk->npfd == DNS_MAX_FDS) {
			lk->overflow = true;
			return;
		}
		lk->npfd++;
	}
	lk->pfd[i].fd = fd;
	lk->pfd[i].events = events;
	lk->pfd[i].revents = 0;
}

static void
dns_done(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_lookup *lk = arg;

	lk->done = true;
	lk->status = status;
	lk->res = res;		/* ours to free, whatever the status */
}

static int
dns_status_code(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		return DNS_E_NOTFOUND;
	case ARES_ETIMEOUT:
		return DNS_E_TIMEOUT;
	case ARES_ENOMEM:
		return DNS_E_NOMEM;
	default:
		return DNS_E_FAIL;
	}
}

/* Append the addresses of `res` to out[], skipping duplicates; the
 * port c-ares may fill in and any scope are left out (port 0, scope 0). */
static size_t
dns_collect(const struct ares_addrinfo *res, int family, struct addr *out,
    size_t max)
{
	const struct ares_addrinfo_node *ai;
	struct addr a;
	size_t n = 0, i;

	for (ai = res != NULL ? res->nodes : NULL; ai != NULL && n < max;
	    ai = ai->ai_next) {
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			const struct sockaddr_in *sin = (const void *)ai->ai_addr;

			addr_set(&a, ADDR_V4, &sin->sin_addr, 0);
		} else if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

			addr_set(&a, ADDR_V6, &sin6->sin6_addr, 0);
		} else
			continue;
		if ((family == AF_INET && a.family != ADDR_V4) ||
		    (family == AF_INET6 && a.family != ADDR_V6))
			continue;
		for (i = 0; i < n; i++)
			if (addr_equal(&out[i], &a))
				break;
		if (i == n)
			out[n++] = a;
	}
	return n;
}

int
dns_resolve(const char *name, int family, int timeout_ms,
    struct addr *out, size_t max, size_t *n, char *err, size_t errlen)
{
	struct dns_lookup lk;
	struct ares_options opts;
	struct ares_addrinfo_hints hints;
	struct pollfd ready[DNS_MAX_FDS];
	ares_channel channel = NULL;
	struct timeval maxtv, tv, *tvp;
	long long deadline, left;
	int i, nready, r, ret = DNS_E_FAIL, wait_ms;

	*n = 0;
	if (err != NULL && errlen > 0)
		*err = '\0';
	memset(&lk, 0, sizeof(lk));
	if (name == NULL || *name == '\0' || max == 0 ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)) {
		snprintf(err, errlen, "invalid lookup request");
		return DNS_E_FAIL;
	}
	if (!dns_name_ok(name)) {
		snprintf(err, errlen, "invalid host name");
		return DNS_E_FAIL;
	}
	if (timeout_ms <= 0)
		timeout_ms = DNS_RESOLVE_TIMEOUT_MS;
	if (dns_hook != NULL)
		return dns_hook(name, family, timeout_ms, out, max, n, err, errlen);
	if ((r = dns_numeric(name, family, out, n, err, errlen)) != 1)
		return r;
	deadline = (long long)clock_ms() + timeout_ms;

	pthread_once(&dns_once, dns_library_init);
	if (dns_init_status != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(dns_init_status));
		return DNS_E_FAIL;
	}

	/*
	 * Several tries inside the deadline so that one lost UDP datagram
	 * does not use up the whole budget; c-ares doubles the per-try
	 * timeout on later rounds, and our deadline caps the total anyway.
	 */
	memset(&opts, 0, sizeof(opts));
	opts.timeout = timeout_ms / 4;
	if (opts.timeout < 200)
		opts.timeout = 200;
	if (opts.timeout > 2000)
		opts.timeout = 2000;
	opts.tries = 3;
	opts.sock_state_cb = dns_sock_state;
	opts.sock_state_cb_data = &lk;
	r = ares_init_options(&channel, &opts,
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB);
	if (r != ARES_SUCCESS) {
		channel = NULL;
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(r));
		ret = dns_status_code(r);
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;	/* one node per address */
	ares_getaddrinfo(channel, name, NULL, &hints, dns_done, &lk);

	while (!lk.done) {
		if (lk.overflow) {
			snprintf(err, errlen, "resolver uses too many sockets");
			goto out;
		}
		left = deadline - (long long)clock_ms();
		if (left <= 0) {
			snprintf(err, errlen, "timed out after %d ms", timeout_ms);
			ret = DNS_E_TIMEOUT;
			goto out;
		}
		maxtv.tv_sec = left / 1000;
		maxtv.tv_usec = (left % 1000) * 1000;
		tvp = ares_timeout(channel, &maxtv, &tv);
		/* Round up: waking a little early just spins once more. */
		wait_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);

		/* ares_process_fd() may change lk.pfd[] through the callback. */
		nready = lk.npfd;
		memcpy(ready, lk.pfd, sizeof(ready[0]) * (size_t)nready);
		r = poll(ready, (nfds_t)nready, wait_ms);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto out;
		}
		if (r == 0) {
			/* Let c-ares retransmit or give up on expired tries. */
			ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (i = 0; i < nready && !lk.done; i++) {
			short rev = ready[i].revents;

			if (rev == 0)
				continue;
			ares_process_fd(channel,
			    (rev & (POLLIN | POLLERR | POLLHUP)) ? ready[i].fd :
			    ARES_SOCKET_BAD,
			    (rev & POLLOUT) ? ready[i].fd : ARES_SOCKET_BAD);
		}
	}

	if (lk.status != ARES_SUCCESS) {
		snprintf(err, errlen, "%s", ares_strerror(lk.status));
		ret = dns_status_code(lk.status);
		goto out;
	}
	*n = dns_collect(lk.res, family, out, max);
	if (*n == 0) {
		snprintf(err, errlen, "no %saddress",
		    family == AF_INET ? "IPv4 " :
		    family == AF_INET6 ? "IPv6 " : "");
		ret = DNS_E_NOTFOUND;
		goto out;
	}
	ret = 0;
 out:
	/* Destroying the channel completes a pending query with
	 * ARES_EDESTRUCTION, which lands in lk and is freed below. */
	if (channel != NULL)
		ares_destroy(channel);
	if (lk.res != NULL)
		ares_freeaddrinfo(lk.res);
	return ret;
}

void
dns_resolve_set_hook(dns_resolve_fn fn)
{
	dns_hook = fn;
}
