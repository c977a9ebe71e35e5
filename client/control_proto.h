/* SPDX-License-Identifier: ISC */
/*
 * control_proto.h - the control protocol between a running tunnel and
 * `cshuttle status` (docs/CONTROL.md is the specification).
 *
 * Pure code, fed bytes and never touching a descriptor, so that both
 * ends' parsers can be unit-tested and fuzzed: the tunnel's server
 * (control.c) parses requests and formats replies, the status command
 * (status.c) parses greetings and replies.
 *
 * Framing: ASCII lines ending in '\n'.  The tunnel speaks first:
 *
 *	cshuttle-control <version>	on connect (CONTROL_PROTO_VERSION)
 *
 * then answers each request line in turn:
 *
 *	status				-> "status", field lines, "end"
 *	anything else			-> "error <text>", and the tunnel
 *					   closes the connection
 *
 * A field line is "<key> <value>": keys are lower-case letters, digits
 * and '_'; numbers are decimal without leading zeros; strings are
 * printable ASCII (the formatter replaces anything else with '?').
 *
 * Errors: functions return 0 (or a length, or a request code) on success
 * and a negative CONTROL_E_* on failure, with control_proto_strerror()
 * naming it or a one-line reason in err (docs/ARCHITECTURE.md, "Errors").
 */
#ifndef CSHUTTLE_CONTROL_PROTO_H
#define CSHUTTLE_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTROL_PROTO_VERSION	1
#define CONTROL_PROTO_MAXREQ	128		/* a request line, '\n' included */
#define CONTROL_PROTO_MAXLINE	512		/* a reply line, '\n' included */
#define CONTROL_PROTO_MAXREPLY	(64 * 1024)	/* a whole reply */
#define CONTROL_MAX_SUBNETS	256		/* subnet lines in one reply */
#define CONTROL_NAME_MAX	64		/* a tunnel's name, in bytes */
#define CONTROL_TEXT_MAX	300		/* a string value, in bytes */

#define CONTROL_E_INVAL		(-1)	/* not what the protocol allows */
#define CONTROL_E_VERSION	(-2)	/* a version this side does not speak */
#define CONTROL_E_TOOBIG	(-3)	/* over a limit above */
#define CONTROL_E_UNKNOWN	(-4)	/* a request this side does not know */
#define CONTROL_E_REMOTE	(-5)	/* the tunnel answered "error ..." */

/* Requests (control_proto_request()). */
#define CONTROL_REQ_STATUS	1

enum control_state {
	CONTROL_STATE_CONNECTING = 0,	/* the first session is not up yet */
	CONTROL_STATE_CONNECTED,
	CONTROL_STATE_RECONNECTING,	/* between sessions */
};

/* One subnet as the status shows it: "10.0.0.0/8", "[fd00::/64]:443". */
struct control_subnet {
	bool	 exclude;
	char	 text[64];
};

/*
 * Everything `cshuttle status` shows of one tunnel.  Counters are
 * cumulative over every session of the run; rates are bytes per second
 * over the last few seconds.  A `has_*` flag says whether the group
 * below it was sent.
 */
struct control_status {
	char			 name[CONTROL_NAME_MAX + 1];
	uint64_t		 pid;
	char			 version[32];
	char			 remote[CONTROL_TEXT_MAX];
	char			 transport[32];		/* "libssh2", "ssh command" */
	enum control_state	 state;
	uint64_t		 uptime_s;		/* since the tunnel started */
	bool			 has_session;		/* a session is up: */
	uint64_t		 session_s;		/*   for this long */
	uint64_t		 reconnects;
	uint64_t		 attempt;		/* reconnecting: attempts so far */
	char			 last_reason[CONTROL_TEXT_MAX];	/* why the last
							 * session ended, "" */
	char			 last_error[CONTROL_TEXT_MAX];	/* the last failed
							 * attempt, "" */
	struct control_subnet	 subnets[CONTROL_MAX_SUBNETS];
	size_t			 nsubnets;
	uint64_t		 subnets_omitted;	/* beyond CONTROL_MAX_SUBNETS */
	uint64_t		 streams;		/* open now */
	uint64_t		 streams_waiting;	/* accepted, waiting for a session */
	uint64_t		 streams_total;		/* opened in all */
	uint64_t		 streams_failed;	/* the remote could not connect */
	uint64_t		 bytes_in, bytes_out;	/* stream data received / sent */
	uint64_t		 rate_in, rate_out;	/* bytes per second */
	bool			 has_dns;		/* DNS capture is on: */
	uint64_t		 dns_queries;		/*   queries asked */
	uint64_t		 dns_failures;		/*   answered with SERVFAIL */
	bool			 has_udp;		/* UDP is carried: */
	uint64_t		 udp_flows;		/*   open now */
	uint64_t		 udp_flows_total;	/*   in all */
	uint64_t		 udp_dgrams_out;	/*   datagrams sent to the remote */
	uint64_t		 udp_dgrams_in;		/*   and received from it */
	uint64_t		 udp_dropped_local;	/*   dropped here */
	uint64_t		 udp_dropped_remote;	/*   the remote could not deliver */
};

const char *control_proto_strerror(int code);
const char *control_state_name(enum control_state st);

/* The greeting line, '\n' included, into out: its length, or
 * CONTROL_E_TOOBIG. */
int	control_proto_greeting(char *out, size_t outlen);
/* A greeting line (without its '\n'): the version spoken, or a
 * CONTROL_E_* (CONTROL_E_VERSION for another version). */
int	control_proto_parse_greeting(const char *line, size_t len);

/* A request line (without its '\n'): CONTROL_REQ_*, or CONTROL_E_*. */
int	control_proto_request(const char *line, size_t len);

/*
 * The reply to "status", "status\n" to "end\n", into out: its length, or
 * CONTROL_E_TOOBIG when outlen cannot hold it (never more than
 * CONTROL_PROTO_MAXREPLY is needed).  Strings are cut to what their
 * fields hold and made printable.
 */
int	control_proto_format(const struct control_status *st, char *out, size_t outlen);
/* An error reply line for `text`, '\n' included: its length. */
int	control_proto_format_error(const char *text, char *out, size_t outlen);

/*
 * A whole reply (from its first line to "end\n" included, nothing after)
 * into *st.  0, or CONTROL_E_* with the reason in err (CONTROL_E_REMOTE:
 * the tunnel's "error" text).  Unknown keys are skipped, so that a newer
 * tunnel may add fields; a known key twice, a bad value or a missing
 * "name" or "state" is an error.  err is a string afterwards either way
 * (empty on success), so that a caller may print it without knowing which.
 */
int	control_proto_parse(const char *text, size_t len, struct control_status *st,
	    char *err, size_t errlen);

/*
 * Where a reply ends in buf[0..len): the length up to and including its
 * "end\n" (or its "error ...\n" line), 0 when more bytes are needed, or
 * CONTROL_E_* when it cannot become a reply (a line too long, a reply
 * over CONTROL_PROTO_MAXREPLY).
 */
int	control_proto_reply_len(const char *buf, size_t len);

/* A tunnel's name: 1 to CONTROL_NAME_MAX of [A-Za-z0-9._@+-], not
 * starting with '.' or '-'. */
bool	control_proto_name_ok(const char *name);

#endif
