/* SPDX-License-Identifier: ISC */
/*
 * bootstrap.c - upload and start the stub through the remote /bin/sh.
 *
 * See bootstrap.h for the exchange.  The client side is a small state
 * machine over the transport's non-blocking ops: it reads the channel one
 * byte at a time until the CSHUTTLE-EXEC line, so not a byte of the mux
 * stream that follows is consumed here.
 */
#include <sys/epoll.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bootstrap.h"
#include "clock.h"
#include "ev.h"
#include "log.h"
#include "phase.h"
#include "stubs.h"
#include "words.h"

/*
 * The remote script.  Constraints that shape it:
 * - POSIX sh and busybox only: uname, mktemp, head, wc, sha256sum, chmod,
 *   mkdir, mv, rm, grep; no bash-isms.
 * - One line without ', \, ! or newlines: the login shell (which may be
 *   csh or fish) must hand it to /bin/sh untouched.
 * - The client's first line (CSHUTTLE-CLIENT, sent before anything comes
 *   back, so that a remote that echoes its input shows itself at once) is
 *   skipped; an UPLOAD without it is taken as well.
 * - `read` takes the UPLOAD line byte by byte, so the body that follows
 *   stays in stdin for head -c.  busybox head -c reads ahead through
 *   stdio; that is harmless because the client sends nothing after the
 *   body until it has seen CSHUTTLE-EXEC.
 * - A shell exits when `exec` fails, so each candidate directory is
 *   probed first with a tiny file ("exit 0", no #! line).  Only status
 *   126 (execve() refused: noexec) disqualifies the directory: busybox sh
 *   runs a file without #! by re-executing itself through /proc/self/exe,
 *   which fails (127) where /proc is not mounted, e.g. in a chroot,
 *   although the directory is fine for the static stub.
 *   and the stub itself is run once in probe mode (CSHUTTLE_STUB_PROBE)
 *   before the exec: an exec format error or a missing kernel feature is
 *   then reported as "cannot start", with the reason.
 * - The EXIT trap removes whatever file exists when the script ends
 *   without exec (dash and busybox also run it when exec itself fails).
 * - Only the cache (--stub-cache) costs a round trip: the remote answers
 *   CSHUTTLE-SEND when it needs the body; otherwise the body follows the
 *   UPLOAD line at once.
 */
static const char bootstrap_sh[] =
	"cs_f=; cs_p=; cs_s=; "
	"cs_clean() { for cs_x in \"$cs_p\" \"$cs_f\" \"$cs_s\"; do "
	    "if [ -n \"$cs_x\" ]; then rm -f \"$cs_x\"; fi; done; }; "
	"trap cs_clean EXIT; "
	"trap \"cs_clean; exit 1\" HUP INT TERM; "
	"cs_err() { echo \"CSHUTTLE-ERR $*\"; exit 1; }; "
	"cs_cc=-; for cs_x in cc gcc clang; do "
	    "if command -v $cs_x >/dev/null 2>&1; then cs_cc=$cs_x; break; fi; done; "
	"echo \"CSHUTTLE-BOOT 2 $(uname -s) $(uname -m) $cs_cc\"; "
	"read -r cs_w cs_n cs_h cs_m cs_dir || exit 1; "
	"if [ \"$cs_w\" = CSHUTTLE-CLIENT ]; then read -r cs_w cs_n cs_h cs_m cs_dir || exit 1; fi; "
	"if [ \"$cs_w\" = UPLOAD ]; then :; else exit 0; fi; "
	"[ \"$cs_n\" -gt 0 ] 2>/dev/null || cs_err \"bad upload size\"; "
	"umask 077; "
	"command -v sha256sum >/dev/null 2>&1 || cs_err \"sha256sum not found on the remote host\"; "
	/* cs_have F: F has the announced size and hash */
	"cs_have() { cs_y=$(wc -c <\"$1\") && [ $((cs_y + 0)) = \"$cs_n\" ] && "
	    "cs_y=$(sha256sum <\"$1\") && [ \"${cs_y%% *}\" = \"$cs_h\" ]; }; "
	/* cs_recv F: the body into F, checked */
	"cs_recv() { head -c \"$cs_n\" >\"$1\"; cs_y=$(wc -c <\"$1\"); cs_y=$((cs_y + 0)); "
	    "[ \"$cs_y\" = \"$cs_n\" ] || cs_err \"short upload ($cs_y of $cs_n bytes)\"; "
	    "cs_y=$(sha256sum <\"$1\"); [ \"${cs_y%% *}\" = \"$cs_h\" ] || cs_err \"checksum mismatch\"; }; "
	/* cs_xdir D: files may be created and executed in D */
	"cs_xdir() { cs_p=$(mktemp \"$1/.cshuttle.XXXXXX\" 2>/dev/null) || { cs_p=; return 1; }; "
	    "echo \"exit 0\" >\"$cs_p\"; chmod 700 \"$cs_p\"; "
	    "\"$cs_p\" </dev/null >/dev/null 2>&1; if [ $? = 126 ]; then cs_y=1; else cs_y=0; fi; "
	    "rm -f \"$cs_p\"; cs_p=; return $cs_y; }; "
	/* cs_run F: the stub F starts here (probe mode) */
	"cs_run() { cs_y=$(CSHUTTLE_STUB_PROBE=1 \"$1\" </dev/null 2>&1); "
	    "[ \"$cs_y\" = CSHUTTLE-PROBE-OK ]; }; "
	"cs_nogo() { cs_y=$(echo \"$cs_y\" | head -n 1); "
	    "cs_err \"the stub cannot start: ${cs_y:-no output}\"; }; "
	"case $cs_dir in -) cs_dir= ;; \"~/\"*) cs_dir=$HOME/${cs_dir#\"~/\"} ;; esac; "
	"if [ \"$cs_m\" = cache ]; then "
	    "cs_k=${XDG_CACHE_HOME:-$HOME/.cache}/cshuttle; "
	    "if mkdir -p \"$cs_k\" 2>/dev/null && cs_xdir \"$cs_k\"; then "
	        "cs_c=$cs_k/stub-$cs_h; "
	        "if [ -f \"$cs_c\" ] && cs_have \"$cs_c\" && cs_run \"$cs_c\"; then "
	            "echo \"CSHUTTLE-EXEC $cs_k cached\"; exec \"$cs_c\"; fi; "
	        "rm -f \"$cs_c\"; echo CSHUTTLE-SEND; "
	        "cs_f=$(mktemp \"$cs_k/.stub.XXXXXX\") || cs_err \"cannot create a file in $cs_k\"; "
	        "cs_recv \"$cs_f\"; chmod 700 \"$cs_f\"; cs_run \"$cs_f\" || cs_nogo; "
	        "for cs_x in \"$cs_k\"/stub-*; do rm -f \"$cs_x\"; done; "
	        "mv -f \"$cs_f\" \"$cs_c\" || cs_err \"cannot store the stub in $cs_k\"; cs_f=; "
	        "echo \"CSHUTTLE-EXEC $cs_k\"; exec \"$cs_c\"; "
	    "fi; "
	    "echo \"CSHUTTLE-NOTE cannot keep the stub in $cs_k (not writable, or noexec)\"; "
	    "echo CSHUTTLE-SEND; "
	"fi; "
	"if [ -n \"$cs_dir\" ]; then "
	    "[ -d \"$cs_dir\" ] && [ -w \"$cs_dir\" ] || "
	        "cs_err \"--remote-tmpdir $cs_dir is not a writable directory\"; fi; "
	"cs_d=; cs_t=; "
	"for cs_c in \"$cs_dir\" \"$XDG_RUNTIME_DIR\" \"$TMPDIR\" /tmp /var/tmp /dev/shm; do "
	    "if [ -n \"$cs_c\" ] && [ -d \"$cs_c\" ] && [ -w \"$cs_c\" ]; then :; else continue; fi; "
	    "cs_t=\"$cs_t $cs_c\"; "
	    "if cs_xdir \"$cs_c\"; then cs_d=$cs_c; break; fi; "
	"done; "
	"if [ -z \"$cs_t\" ]; then cs_err \"no writable directory for the stub\"; fi; "
	"if [ -z \"$cs_d\" ]; then cs_err \"cannot execute files in$cs_t (mounted noexec?); "
	    "name a directory that allows it with --remote-tmpdir\"; fi; "
	"if [ \"$cs_m\" = cc ]; then "
	    "[ \"$cs_cc\" = - ] && cs_err \"no C compiler\"; "
	    "cs_s=$(mktemp \"$cs_d/.cshuttle.XXXXXX\") || cs_err \"cannot create a file in $cs_d\"; "
	    "cs_recv \"$cs_s\"; "
	    "cs_f=$(mktemp \"$cs_d/.cshuttle.XXXXXX\") || cs_err \"cannot create a file in $cs_d\"; "
	    "cs_y=$($cs_cc -x c -O2 -w -o \"$cs_f\" \"$cs_s\" </dev/null 2>&1) || "
	        "{ cs_y=$(echo \"$cs_y\" | grep error | head -n 1); "
	        "cs_err \"compiling the stub with $cs_cc failed: ${cs_y:-no message}\"; }; "
	    "rm -f \"$cs_s\"; cs_s=; "
	"else "
	    "cs_f=$(mktemp \"$cs_d/.cshuttle.XXXXXX\") || cs_err \"cannot create a file in $cs_d\"; "
	    "cs_recv \"$cs_f\"; "
	"fi; "
	"chmod 700 \"$cs_f\"; "
	"cs_run \"$cs_f\" || cs_nogo; "
	"echo \"CSHUTTLE-EXEC $cs_d\"; "
	"exec \"$cs_f\" \"$cs_f\"";

/* What the client says first (bootstrap.h), without its newline. */
#define BOOTSTRAP_CLIENT_LINE	"CSHUTTLE-CLIENT 2"
static const char bootstrap_client[] = BOOTSTRAP_CLIENT_LINE "\n";

#define BOOTSTRAP_LINE_MAX	512
#define BOOTSTRAP_POLL_MS	100	/* also how often service() runs */
#define BOOTSTRAP_GRACE_MS	3000	/* to learn the exit status after EOF */
#define BOOTSTRAP_COMPILE_MS	180000	/* upload + compile + start on a slow board */
#define BOOTSTRAP_ABORT_MS	2000

enum bs_phase {
	BS_BOOT,		/* waiting for CSHUTTLE-BOOT */
	BS_UPLOAD,		/* sending the body, waiting for EXEC/ERR */
};

enum bs_mode {
	BS_MODE_RUN,		/* upload the prebuilt stub to a temp file */
	BS_MODE_CACHE,		/* the same, kept in the remote cache */
	BS_MODE_CC,		/* upload the source, the remote compiles it */
};

static const char *const bs_mode_word[] = { "run", "cache", "cc" };

struct bs {
	struct transport	*t;
	struct bootstrap_remote	*rs;
	enum bs_phase		 phase;
	char			 line[BOOTSTRAP_LINE_MAX];
	size_t			 len;		/* bytes in line (truncated beyond) */
	size_t			 junk;		/* bytes skipped before BOOT */
	/* output: seg[0] = UPLOAD line, seg[1] = body (stub or source) */
	const unsigned char	*seg[2];
	size_t			 seglen[2];
	int			 cur;
	size_t			 off;
	bool			 hold;		/* body waits for CSHUTTLE-SEND */
	bool			 nocache;	/* the remote cannot keep it (NOTE) */
	char			 wfail[320];	/* a write failed: why (see bootstrap_run) */
	enum bs_mode		 mode;
	bool			 cache;		/* --stub-cache */
	size_t			 client_off;	/* of bootstrap_client sent */
	const char		*tmpdir;	/* --remote-tmpdir, or NULL */
	const char		*arch;		/* of the stub uploaded */
	char			 upload[512];
	char			 machine[64];
	char			 cc[16];
};

static bootstrap_find_fn	 bs_find_hook;
static const char	*bs_supported_hook;

void
bootstrap_set_stubs(bootstrap_find_fn find, const char *supported)
{
	bs_find_hook = find;
	bs_supported_hook = find != NULL ? supported : NULL;
}

void
bootstrap_remote_init(struct bootstrap_remote *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->exit_status = -1;
	rs->err.boot = true;
}

const char *
bootstrap_script(void)
{
	return bootstrap_sh;
}

const char *
bootstrap_client_line(void)
{
	return bootstrap_client;
}

const char *
bootstrap_command(void)
{
	static char	cmd[sizeof(bootstrap_sh) + 64];

	if (cmd[0] == '\0') {
		/* The script has no single quote, so quoting cannot grow it
		 * beyond the two surrounding quotes. */
		memcpy(cmd, "exec /bin/sh -c ", 16);
		if (words_shquote(bootstrap_sh, cmd + 16, sizeof(cmd) - 16) != 0)
			abort();
	}
	return cmd;
}

void
bootstrap_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		/* Cannot happen with a working libcrypto; an empty hash makes
		 * the remote refuse the upload rather than run garbage. */
		hex[0] = '\0';
		return;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int
bs_word(const char **p, char *out, size_t outlen)
{
	const char	*s = *p;
	size_t		 n;

	while (*s == ' ')
		s++;
	n = strcspn(s, " ");
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

int
bootstrap_parse_boot(const char *line, int *version, char *os, size_t oslen,
    char *machine, size_t mlen, char *cc, size_t cclen)
{
	const char	*p;
	char		 v[16], *end;
	long		 lv;
	size_t		 i;

	if (strncmp(line, "CSHUTTLE-BOOT ", 14) != 0)
		return -1;
	p = line + 14;
	if (bs_word(&p, v, sizeof(v)) != 0 || bs_word(&p, os, oslen) != 0 ||
	    bs_word(&p, machine, mlen) != 0 || bs_word(&p, cc, cclen) != 0)
		return -1;
	while (*p == ' ')
		p++;
	if (*p != '\0')
		return -1;
	errno = 0;
	lv = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || lv < 0 || lv > 1000)
		return -1;
	for (i = 0; machine[i] != '\0'; i++)
		if (!isalnum((unsigned char)machine[i]) && strchr("_-.", machine[i]) == NULL)
			return -1;
	if (strcmp(cc, "-") != 0 && strcmp(cc, "cc") != 0 && strcmp(cc, "gcc") != 0 &&
	    strcmp(cc, "clang") != 0)
		return -1;
	*version = (int)lv;
	return 0;
}

int
bootstrap_wait(struct transport *t, int64_t deadline, int max_ms)
{
	struct pollfd	pfd;
	uint32_t	ev = t->ops->events(t);
	int		ms = clock_remaining_ms(deadline), r;

	if (max_ms >= 0 && (ms < 0 || ms > max_ms))
		ms = max_ms;
	pfd.fd = t->ops->fd(t);
	pfd.events = 0;
	if (ev & EV_READ)
		pfd.events |= POLLIN;
	if (ev & EV_WRITE)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, ms);
	if (r == -1)
		return errno == EINTR ? 0 : -1;
	return r > 0 ? 1 : 0;
}

/* Printable copy of a remote line for messages. */
static void
bs_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Send ABORT, best effort: the remote script exits quietly on it. */
static void
bs_abort(struct bs *b, const char *reason)
{
	char	msg[160];
	size_t	len, off = 0;
	ssize_t	n;
	int64_t	deadline = (int64_t)clock_ms() + BOOTSTRAP_ABORT_MS;

	snprintf(msg, sizeof(msg), "ABORT %s\n", reason);
	len = strlen(msg);
	while (off < len && clock_remaining_ms(deadline) > 0) {
		n = b->t->ops->write(b->t, msg + off, len - off);
		if (n == TRANSPORT_AGAIN) {
			if (bootstrap_wait(b->t, deadline, BOOTSTRAP_POLL_MS) < 0)
				return;
			continue;
		}
		if (n < 0)
			return;
		off += (size_t)n;
	}
}

/*
 * Choose what to send for the remote's machine: its prebuilt stub (to a
 * temp file or the cache), else the source when it has a compiler.
 * Queues the UPLOAD line and the body; -1 with err when nothing fits.
 */
static int
bs_plan(struct bs *b, char *err, size_t errlen)
{
	const struct stub_image	*img;
	char			 hex[65], reason[128];

	img = bs_find_hook != NULL ? bs_find_hook(b->machine) : stub_find(b->machine);
	if (img != NULL && img->size > 0) {
		b->mode = b->cache ? BS_MODE_CACHE : BS_MODE_RUN;
		b->arch = img->arch;
		b->seg[1] = img->data;
		b->seglen[1] = img->size;
	} else if (strcmp(b->cc, "-") != 0 && bs_find_hook == NULL) {
		b->mode = BS_MODE_CC;
		b->arch = b->machine;
		b->seg[1] = stub_source;
		b->seglen[1] = stub_source_size;
	} else {
		snprintf(err, errlen, "remote architecture '%s' is not supported "
		    "(supported: %s), and the remote host has no C compiler (cc) "
		    "to build the stub", b->machine,
		    bs_find_hook != NULL ? bs_supported_hook : stub_supported());
		snprintf(reason, sizeof(reason), "unsupported architecture %s", b->machine);
		bs_abort(b, reason);
		return -1;
	}
	bootstrap_sha256_hex(b->seg[1], b->seglen[1], hex);
	/* The client allows 256 bytes of --remote-tmpdir; the line has room
	 * for more, and its newline always fits. */
	snprintf(b->upload, sizeof(b->upload), "UPLOAD %zu %s %s %.299s\n", b->seglen[1],
	    hex, bs_mode_word[b->mode], b->tmpdir != NULL ? b->tmpdir : "-");
	b->seg[0] = (const unsigned char *)b->upload;
	b->seglen[0] = strlen(b->upload);
	b->cur = 0;
	b->off = 0;
	b->hold = b->mode == BS_MODE_CACHE;
	b->phase = BS_UPLOAD;
	switch (b->mode) {
	case BS_MODE_RUN:
		log_debug("uploading the %s stub (%zu bytes)", b->arch, b->seglen[1]);
		break;
	case BS_MODE_CACHE:
		log_debug("asking the remote host for its cached %s stub", b->arch);
		break;
	case BS_MODE_CC:
		log_info("no prebuilt stub for %s: compiling the stub on the remote host "
		    "with %s (%zu bytes of source)", b->machine, b->cc, b->seglen[1]);
		break;
	}
	return 0;
}

/*
 * Is this line one of ours coming back?  A shell never prints them: what
 * runs there is not the bootstrap but something that echoes its input
 * (a command that is not ssh, a terminal allocated with -tt).
 */
static bool
bs_echoed(const struct bs *b)
{
	size_t	n = b->seglen[0];

	if (strcmp(b->line, BOOTSTRAP_CLIENT_LINE) == 0)
		return true;
	return b->phase == BS_UPLOAD && n > 1 && strlen(b->line) == n - 1 &&
	    memcmp(b->line, b->upload, n - 1) == 0;
}

/* Handle one complete line: 1 = stub started, 0 = go on, -1 = failed. */
static int
bs_line(struct bs *b, enum transport_fail *fail, char *err, size_t errlen)
{
	char	 os[64];
	char	*dir;
	size_t	 n;
	bool	 cached;
	int	 version;

	if (bs_echoed(b)) {
		b->rs->echo = true;
		snprintf(err, errlen, "the remote echoes what it is sent");
		goto fail;
	}
	if (b->phase == BS_BOOT) {
		if (strncmp(b->line, "CSHUTTLE-BOOT ", 14) != 0) {
			/* Output of the user's shell start-up files. */
			bs_clean(b->line);
			log_debug("remote (before bootstrap): %s", b->line);
			return 0;
		}
		if (bootstrap_parse_boot(b->line, &version, os, sizeof(os),
		    b->machine, sizeof(b->machine), b->cc, sizeof(b->cc)) != 0) {
			bs_clean(b->line);
			snprintf(err, errlen, "unexpected bootstrap greeting from the remote: %.80s",
			    b->line);
			bs_abort(b, "bad greeting");
			goto fail;
		}
		log_debug("remote system: %s %s, compiler: %s", os, b->machine, b->cc);
		phase_mark("the remote host answered the bootstrap");
		if (version != BOOTSTRAP_VERSION) {
			snprintf(err, errlen, "remote bootstrap version %d is not supported", version);
			bs_abort(b, "version");
			goto fail;
		}
		if (strcmp(os, "Linux") != 0) {
			snprintf(err, errlen, "remote system '%s' is not supported (only Linux)", os);
			bs_abort(b, "unsupported system");
			goto fail;
		}
		if (bs_plan(b, err, errlen) != 0)
			goto fail;
		return 0;
	}

	bs_clean(b->line);
	if (strncmp(b->line, "CSHUTTLE-ERR ", 13) == 0) {
		if (b->mode == BS_MODE_CC)
			snprintf(err, errlen, "remote bootstrap failed (building the stub for %s): "
			    "%s", b->machine, b->line + 13);
		else
			snprintf(err, errlen, "remote bootstrap failed (%s stub on %s): %s",
			    b->arch, b->machine, b->line + 13);
		goto fail;
	}
	if (strncmp(b->line, "CSHUTTLE-NOTE ", 14) == 0) {
		log_warn("remote: %s", b->line + 14);
		if (b->hold)
			b->nocache = true;
		return 0;
	}
	if (strcmp(b->line, "CSHUTTLE-SEND") == 0 && b->hold) {
		b->hold = false;
		log_debug("uploading the %s stub (%zu bytes)%s", b->arch, b->seglen[1],
		    b->nocache ? "" : " into the remote cache");
		return 0;
	}
	if (strncmp(b->line, "CSHUTTLE-EXEC ", 14) == 0) {
		/* " cached" ends the line only for a cache hit, which is
		 * the one case that runs without the body: while the body
		 * is held back, any other EXEC is out of order. */
		dir = b->line + 14;
		n = strlen(dir);
		cached = b->hold && n > 7 && strcmp(dir + n - 7, " cached") == 0;
		if (cached)
			dir[n - 7] = '\0';
		if (b->wfail[0] != '\0' || (!cached && b->cur < 2)) {
			snprintf(err, errlen, "remote started the stub before the upload ended");
			goto fail;
		}
		if (cached)
			log_debug("using the cached %s stub in %s", b->arch, dir);
		log_debug("stub started on the remote host from %s", dir);
		phase_mark("the stub started (%s)", cached ? "cached" : "uploaded");
		return 1;
	}
	log_debug("remote (bootstrap): %s", b->line);
	return 0;
fail:
	*fail = TRANSPORT_F_REMOTE;
	return -1;
}

/* The channel ended before the stub started: say why as well as we can. */
static void
bs_eof(struct bs *b, char *err, size_t errlen)
{
	struct bootstrap_remote	*rs = b->rs;
	int64_t			 grace = (int64_t)clock_ms() + BOOTSTRAP_GRACE_MS;
	char			 status[64], detail[REMOTE_LINE_MAX + 4];

	while (!rs->ended && clock_remaining_ms(grace) > 0) {
		b->t->ops->service(b->t);
		if (!rs->ended)
			usleep(20 * 1000);
	}
	remote_lines_flush(&rs->err);

	detail[0] = '\0';
	if (rs->err.last[0] != '\0')
		snprintf(detail, sizeof(detail), ": %s", rs->err.last);
	if (rs->exit_signal[0] != '\0')
		snprintf(status, sizeof(status), "killed by signal %s", rs->exit_signal);
	else if (rs->ended && rs->exit_status >= 0)
		snprintf(status, sizeof(status), "exit status %d", rs->exit_status);
	else
		snprintf(status, sizeof(status), "no exit status");

	if (b->phase == BS_BOOT && rs->exit_status == 127)
		snprintf(err, errlen, "remote has no /bin/sh (%s)%s", status, detail);
	else if (b->phase == BS_BOOT)
		snprintf(err, errlen, "the remote command ended before the bootstrap started (%s)%s",
		    status, detail);
	else
		snprintf(err, errlen, "the remote bootstrap ended unexpectedly (%s)%s",
		    status, detail);
}

int
bootstrap_run(struct transport *t, struct bootstrap_remote *rs,
    const struct transport_open_opts *opts, int boot_ms, enum transport_fail *fail,
    char *err, size_t errlen)
{
	struct bs	*b;
	int64_t		 deadline, upload_deadline;
	enum bs_phase	 before;
	ssize_t		 n;
	size_t		 len;
	char		 c;
	int		 rc = -1, r;

	*fail = TRANSPORT_F_NONE;
	err[0] = '\0';
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		*fail = TRANSPORT_F_REMOTE;
		return -1;
	}
	b->t = t;
	b->rs = rs;
	b->phase = BS_BOOT;
	if (opts != NULL) {
		b->cache = opts->stub_cache;
		/* An empty one is none, as a missing one. */
		if (opts->remote_tmpdir != NULL && opts->remote_tmpdir[0] != '\0')
			b->tmpdir = opts->remote_tmpdir;
	}
	deadline = boot_ms < 0 ? -1 : (int64_t)clock_ms() + boot_ms;

	for (;;) {
		t->ops->service(t);

		/* Input, one byte at a time (see the file comment). */
		for (;;) {
			n = t->ops->read(t, &c, 1);
			if (n == TRANSPORT_AGAIN)
				break;
			if (n == 0) {
				if (b->wfail[0] != '\0')
					snprintf(err, errlen, "%s", b->wfail);
				else
					bs_eof(b, err, errlen);
				*fail = TRANSPORT_F_REMOTE;
				goto out;
			}
			if (n < 0) {
				snprintf(err, errlen, "connection lost during the bootstrap: %s",
				    transport_error(t));
				*fail = TRANSPORT_F_REMOTE;
				goto out;
			}
			if (c != '\n') {
				if (b->phase == BS_BOOT && ++b->junk > BOOTSTRAP_MAX_JUNK) {
					snprintf(err, errlen, "the remote shell printed more than "
					    "%d bytes without starting the bootstrap", BOOTSTRAP_MAX_JUNK);
					*fail = TRANSPORT_F_REMOTE;
					goto out;
				}
				if (c != '\r' && b->len + 1 < sizeof(b->line))
					b->line[b->len++] = c;
				continue;
			}
			b->line[b->len] = '\0';
			b->len = 0;
			before = b->phase;
			if ((r = bs_line(b, fail, err, errlen)) != 0) {
				rc = r > 0 ? 0 : -1;
				if (rc == 0)
					rs->err.boot = false;	/* the stub's own words now */
				goto out;
			}
			if (before == BS_BOOT && b->phase == BS_UPLOAD) {
				upload_deadline = (int64_t)clock_ms() + (b->mode == BS_MODE_CC ?
				    BOOTSTRAP_COMPILE_MS : BOOTSTRAP_TIMEOUT_MS);
				if (deadline < 0 || upload_deadline < deadline)
					deadline = upload_deadline;
			}
		}

		/* Output.  After TRANSPORT_AGAIN the next attempt is the very
		 * same (pointer, length): cur and off have not moved.  The
		 * client's line first, at once: a remote that echoes has
		 * nothing else to send back. */
		while (b->client_off < sizeof(bootstrap_client) - 1) {
			n = t->ops->write(t, bootstrap_client + b->client_off,
			    sizeof(bootstrap_client) - 1 - b->client_off);
			if (n == TRANSPORT_AGAIN)
				break;
			/* The remote's end is gone: reading on finds the end
			 * and says why ("no /bin/sh", ...). */
			b->client_off = n < 0 ? sizeof(bootstrap_client) - 1 :
			    b->client_off + (size_t)n;
		}
		while (b->phase == BS_UPLOAD && b->client_off == sizeof(bootstrap_client) - 1 &&
		    b->cur < 2 && !(b->cur == 1 && b->hold)) {
			len = b->seglen[b->cur] - b->off;
			if (len > TRANSPORT_MAX_WRITE)
				len = TRANSPORT_MAX_WRITE;
			n = t->ops->write(t, b->seg[b->cur] + b->off, len);
			if (n == TRANSPORT_AGAIN)
				break;
			if (n < 0) {
				/* The remote may have refused the upload and
				 * exited (--remote-tmpdir missing, say): its
				 * CSHUTTLE-ERR line may still be unread.  Stop
				 * writing and read on, briefly, to say why. */
				snprintf(b->wfail, sizeof(b->wfail),
				    "connection lost while uploading the stub: %s",
				    transport_error(t));
				b->cur = 2;
				b->hold = false;
				if (deadline < 0 || deadline > (int64_t)clock_ms() + BOOTSTRAP_GRACE_MS)
					deadline = (int64_t)clock_ms() + BOOTSTRAP_GRACE_MS;
				break;
			}
			b->off += (size_t)n;
			if (b->off == b->seglen[b->cur]) {
				b->cur++;
				b->off = 0;
			}
		}

		if (deadline >= 0 && clock_remaining_ms(deadline) == 0) {
			if (b->phase == BS_BOOT)
				snprintf(err, errlen, "timed out waiting for the remote shell "
				    "to start the bootstrap");
			else if (b->wfail[0] != '\0')
				snprintf(err, errlen, "%s", b->wfail);
			else
				snprintf(err, errlen, "timed out uploading and starting the stub "
				    "(%d s)", (b->mode == BS_MODE_CC ? BOOTSTRAP_COMPILE_MS :
				    BOOTSTRAP_TIMEOUT_MS) / 1000);
			*fail = TRANSPORT_F_REMOTE;
			goto out;
		}
		if (bootstrap_wait(t, deadline, BOOTSTRAP_POLL_MS) < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			*fail = TRANSPORT_F_REMOTE;
			goto out;
		}
	}
out:
	if (rc == 0)
		*fail = TRANSPORT_F_NONE;
	free(b);
	return rc;
}
