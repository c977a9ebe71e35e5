/*
 * util_io.c - descriptor, terminal and string helpers (see util_io.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ev.h"
#include "util_io.h"

int64_t
io_now_ms(void)
{
	return (int64_t)ev_now();
}

int
io_remaining_ms(int64_t deadline)
{
	int64_t	left;

	if (deadline < 0)
		return -1;
	left = deadline - io_now_ms();
	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int
io_set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (fl & O_NONBLOCK)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

int
io_poll(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int		r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, io_remaining_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return r;
		return pfd.revents;
	}
}

/*
 * Terminal prompts.  While echo is off a signal must not leave the
 * terminal silent: the usual terminating signals are caught for the
 * duration of the read (without SA_RESTART so read() returns EINTR), the
 * terminal is restored, and the signal is raised again afterwards.
 */
static volatile sig_atomic_t	io_tty_signal;

static void
io_tty_catch(int sig)
{
	io_tty_signal = sig;
}

static const int io_tty_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define IO_TTY_NSIGS	(sizeof(io_tty_sigs) / sizeof(io_tty_sigs[0]))

bool
io_can_prompt(void)
{
	int	fd;

	if (!isatty(STDIN_FILENO))
		return false;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return false;
	close(fd);
	return true;
}

int
io_tty_prompt(const char *prompt, bool echo, char *buf, size_t len)
{
	struct sigaction	 sa, old[IO_TTY_NSIGS];
	struct termios		 saved, quiet;
	size_t			 i, n = 0;
	ssize_t			 r, w;
	char			 c;
	int			 fd, rc = -1, restore = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;

	io_tty_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = io_tty_catch;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < IO_TTY_NSIGS; i++)
		sigaction(io_tty_sigs[i], &sa, &old[i]);

	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto out;
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR && io_tty_signal == 0)
			continue;
		if (r != 1)
			break;
		if (c == '\n' || c == '\r') {
			rc = 0;
			break;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
out:
	if (restore) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		/* The answer was not echoed: end its line ourselves. */
		w = write(fd, "\n", 1);
		(void)w;
	}
	close(fd);
	for (i = 0; i < IO_TTY_NSIGS; i++)
		sigaction(io_tty_sigs[i], &old[i], NULL);
	if (io_tty_signal != 0) {
		rc = -1;
		raise(io_tty_signal);
	}
	if (rc != 0)
		explicit_bzero(buf, len);
	return rc;
}

/* Word splitting for -e CMD. */

struct io_words {
	char	**v;
	int	  n, cap;
};

static int
io_words_add(struct io_words *w, const char *s, size_t len)
{
	char	**nv;

	if (w->n + 2 > w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		if ((nv = realloc(w->v, (size_t)w->cap * sizeof(*nv))) == NULL)
			return -1;
		w->v = nv;
	}
	if ((w->v[w->n] = strndup(s, len)) == NULL)
		return -1;
	w->v[++w->n] = NULL;
	return 0;
}

void
io_free_words(char **argv)
{
	char	**p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

int
io_split_words(const char *s, char ***argvp, int *argcp, char *err, size_t errlen)
{
	struct io_words	 w = { NULL, 0, 0 };
	char		*word = NULL;
	size_t		 wl = 0;
	int		 in_word = 0;
	char		 q = 0;

	*argvp = NULL;
	*argcp = 0;
	if ((word = malloc(strlen(s) + 1)) == NULL)
		goto nomem;
	for (;; s++) {
		if (q == '\'') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '\'')
				q = 0;
			else
				word[wl++] = *s;
			continue;
		}
		if (q == '"') {
			if (*s == '\0')
				goto unterminated;
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && s[1] != '\0' && strchr("\"\\$`", s[1]) != NULL)
				word[wl++] = *++s;
			else
				word[wl++] = *s;
			continue;
		}
		if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word && io_words_add(&w, word, wl) != 0)
				goto nomem;
			in_word = 0;
			wl = 0;
			if (*s == '\0')
				break;
			continue;
		}
		in_word = 1;
		if (*s == '\'' || *s == '"')
			q = *s;
		else if (*s == '\\') {
			if (s[1] == '\0') {
				snprintf(err, errlen, "trailing backslash in the command");
				goto fail;
			}
			word[wl++] = *++s;
		} else
			word[wl++] = *s;
	}
	free(word);
	if (w.n == 0) {
		snprintf(err, errlen, "the command is empty");
		io_free_words(w.v);
		return -1;
	}
	*argvp = w.v;
	*argcp = w.n;
	return 0;
unterminated:
	snprintf(err, errlen, "unterminated %c quote in the command", q);
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(word);
	io_free_words(w.v);
	return -1;
}

static int
io_copy(char *dst, size_t dlen, const char *src, size_t slen)
{
	if (slen >= dlen)
		return -1;
	memcpy(dst, src, slen);
	dst[slen] = '\0';
	return 0;
}

int
io_split_remote(const char *remote, char *user, size_t ulen, char *host, size_t hlen,
    char *port, size_t plen, char *err, size_t errlen)
{
	const char	*at, *h, *p = NULL, *end, *c;
	size_t		 i;

	user[0] = host[0] = port[0] = '\0';
	if ((at = strrchr(remote, '@')) != NULL) {
		if (io_copy(user, ulen, remote, (size_t)(at - remote)) != 0 || at == remote)
			goto bad;
		h = at + 1;
	} else
		h = remote;
	if (*h == '[') {
		if ((end = strchr(h, ']')) == NULL)
			goto bad;
		if (end[1] == ':')
			p = end + 2;
		else if (end[1] != '\0')
			goto bad;
		h++;
	} else if ((c = strchr(h, ':')) != NULL && strchr(c + 1, ':') == NULL) {
		end = c;
		p = c + 1;
	} else
		end = h + strlen(h);	/* no port, or a bare IPv6 address */
	if (end == h || *h == '-' || io_copy(host, hlen, h, (size_t)(end - h)) != 0)
		goto bad;
	if (p != NULL) {
		if (*p == '\0' || io_copy(port, plen, p, strlen(p)) != 0)
			goto bad;
		for (i = 0; port[i] != '\0'; i++)
			if (port[i] < '0' || port[i] > '9')
				goto bad;
		if (atoi(port) < 1 || atoi(port) > 65535)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid remote '%s' (expected [user@]host[:port])", remote);
	user[0] = host[0] = port[0] = '\0';
	return -1;
}

int
io_shquote(const char *s, char *out, size_t outlen)
{
	size_t	n = 0;

#define IO_PUT(c) do { if (n + 1 >= outlen) return -1; out[n++] = (c); } while (0)
	IO_PUT('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			IO_PUT('\'');
			IO_PUT('\\');
			IO_PUT('\'');
			IO_PUT('\'');
		} else
			IO_PUT(*s);
	}
	IO_PUT('\'');
#undef IO_PUT
	out[n] = '\0';
	return 0;
}

/* Remote stderr lines. */

static void
io_lines_emit(struct io_lines *l)
{
	size_t	 n = l->len, fplen;
	char	*fp;

	while (n > 0 && l->buf[n - 1] == ' ')
		n--;
	l->buf[n] = '\0';
	l->len = 0;
	if (n == 0)
		return;
	if (l->first[0] == '\0')
		memcpy(l->first, l->buf, n + 1);
	memcpy(l->last, l->buf, n + 1);
	/* ssh names the server's key on a line of its own, before the
	 * verdict: keep it so a one-line error can quote it. */
	if ((fp = strstr(l->buf, "SHA256:")) != NULL) {
		fplen = strcspn(fp, " .,;");
		if (fplen >= sizeof(l->fingerprint))
			fplen = sizeof(l->fingerprint) - 1;
		memcpy(l->fingerprint, fp, fplen);
		l->fingerprint[fplen] = '\0';
	}
	if (l->quiet)
		return;
	if (l->boot)
		log_debug("remote: %s", l->buf);
	else
		log_info("remote: %s", l->buf);
}

void
io_lines_feed(struct io_lines *l, const char *data, size_t n)
{
	size_t	i;
	char	c;

	for (i = 0; i < n; i++) {
		c = data[i];
		if (c == '\n') {
			io_lines_emit(l);
			continue;
		}
		if (c == '\r')
			continue;
		/* Control characters could rewrite the user's terminal. */
		if ((unsigned char)c < 0x20 && c != '\t')
			c = '?';
		if (l->len + 1 >= sizeof(l->buf))
			io_lines_emit(l);
		l->buf[l->len++] = c;
	}
}

void
io_lines_flush(struct io_lines *l)
{
	if (l->len > 0)
		io_lines_emit(l);
}
