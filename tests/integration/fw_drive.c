/* SPDX-License-Identifier: ISC */
/*
 * fw_drive.c - drive the firewall module from a shell test.
 *
 *   fw_drive --firewall [-v]...	be the helper (as `cshuttle --firewall`)
 *   fw_drive [-v]...			read commands on stdin, one per line,
 *					and answer each with one line:
 *
 *	start				fw_start()		-> started | error: ...
 *	port N | fam 4|6|46 | prerouting 0|1
 *	exempt ADDR PORT
 *	inc|exc ADDR/PREFIX [LO HI]
 *	dns ADDR PORT			(a captured nameserver)
 *	leaks 0|1			build the config	-> ok
 *	clear				empty the config	-> ok
 *	apply				fw_apply()		-> applied | error: ...
 *	mark				fw_mark()		-> mark 0x...
 *	msock 4|6|N udp|tcp ADDR PORT	fw_marked_socket(), then talk to
 *					ADDR PORT through it: send "ping" (udp)
 *					or connect (tcp) and read one line
 *		-> msock mark 0x... nonblock cloexec: <line> | error: ...
 *	alive				poll fw_fd()		-> alive | dead
 *	stop				fw_stop()		-> stopped
 *	quit, or end of input		fw_stop() and exit
 *
 * The config is parsed here, not with subnet_parse(), so that the test
 * exercises the firewall module alone.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw.h"

#define DRIVE_MAXSUBNETS	64

static struct subnet		subnets[DRIVE_MAXSUBNETS];
static struct subnet_list	list = { .v = subnets, .n = 0, .cap = DRIVE_MAXSUBNETS };
static struct fw_config		cfg;

static void
config_clear(void)
{
	memset(&cfg, 0, sizeof(cfg));
	list.n = 0;
	cfg.subnets = &list;
}

static int
parse_addr(const char *s, uint8_t *family, uint8_t *addr)
{
	struct addr	a;

	if (addr_parse(&a, s, (size_t)-1, 0, 0) != 0)
		return -1;
	*family = a.family;
	memcpy(addr, a.bytes, 16);
	return 0;
}

/* "ADDR/PREFIX [LO HI]" */
static int
add_subnet(char *args, bool exclude)
{
	struct subnet *s;
	char *slash, *addr, *lo, *hi;

	if (list.n == DRIVE_MAXSUBNETS)
		return -1;
	s = &subnets[list.n];
	memset(s, 0, sizeof(*s));
	addr = strtok(args, " ");
	lo = strtok(NULL, " ");
	hi = strtok(NULL, " ");
	if (addr == NULL || (slash = strchr(addr, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (parse_addr(addr, &s->family, s->addr) != 0)
		return -1;
	s->prefix = (uint8_t)atoi(slash + 1);
	s->port_lo = lo != NULL ? (uint16_t)atoi(lo) : 0;
	s->port_hi = hi != NULL ? (uint16_t)atoi(hi) : 65535;
	s->exclude = exclude;
	list.n++;
	return 0;
}

static int
add_exempt(char *args)
{
	char *addr, *port;

	if (cfg.nexempt == FW_MAX_EXEMPT)
		return -1;
	addr = strtok(args, " ");
	port = strtok(NULL, " ");
	if (addr == NULL || port == NULL || addr_parse(&cfg.exempt[cfg.nexempt],
	    addr, (size_t)-1, 0, (uint16_t)atoi(port)) != 0)
		return -1;
	cfg.nexempt++;
	return 0;
}

static int
add_dns(char *args)
{
	char *addr, *port;

	if (cfg.ndns == FW_MAX_DNS)
		return -1;
	addr = strtok(args, " ");
	port = strtok(NULL, " ");
	if (addr == NULL || port == NULL || addr_parse(&cfg.dns[cfg.ndns], addr,
	    (size_t)-1, 0, (uint16_t)atoi(port)) != 0)
		return -1;
	cfg.ndns++;
	return 0;
}

/* Wait up to ms for events on fd: 0 when they came. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&pfd, 1, ms)) < 0 && errno == EINTR)
		;
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

/* "4|6 udp|tcp ADDR PORT": one exchange through a marked socket. */
static void
marked_socket(struct fw *fw, char *args)
{
	struct sockaddr_storage ss;
	char *fam, *proto, *addr, *port, reply[256];
	socklen_t sl;
	uint32_t mark = 0;
	ssize_t n;
	int fd, af, type, e, fl, fdfl;

	fam = strtok(args, " ");
	proto = strtok(NULL, " ");
	addr = strtok(NULL, " ");
	port = strtok(NULL, " ");
	if (fam == NULL || proto == NULL) {
		printf("error: usage\n");
		return;
	}
	af = strcmp(fam, "4") == 0 ? AF_INET : strcmp(fam, "6") == 0 ?
	    AF_INET6 : atoi(fam);
	type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM :
	    strcmp(proto, "tcp") == 0 ? SOCK_STREAM : atoi(proto);
	if ((fd = fw_marked_socket(fw, af, type)) < 0) {
		printf("error: %s\n", strerror(errno));
		return;
	}
	sl = sizeof(mark);
	(void)getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &sl);
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	printf("msock mark 0x%08x%s%s: ", (unsigned int)mark,
	    fl >= 0 && (fl & O_NONBLOCK) ? " nonblock" : "",
	    fdfl >= 0 && (fdfl & FD_CLOEXEC) ? " cloexec" : "");
	if (addr == NULL || port == NULL) {
		printf("no exchange\n");
		goto out;
	}
	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		e = inet_pton(AF_INET, addr, &sin->sin_addr);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		e = inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	}
	if (e != 1) {
		printf("error: bad address\n");
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0 &&
	    errno != EINPROGRESS) {
		printf("error: connect: %s\n", strerror(errno));
		goto out;
	}
	if (type == SOCK_STREAM) {
		sl = sizeof(e);
		if (wait_fd(fd, POLLOUT, 3000) != 0 || getsockopt(fd,
		    SOL_SOCKET, SO_ERROR, &e, &sl) != 0 || (errno = e) != 0) {
			printf("error: connect: %s\n", strerror(errno));
			goto out;
		}
	} else if (send(fd, "ping\n", 5, 0) != 5) {
		printf("error: send: %s\n", strerror(errno));
		goto out;
	}
	if (wait_fd(fd, POLLIN, 3000) != 0 ||
	    (n = recv(fd, reply, sizeof(reply) - 1, 0)) < 0) {
		printf("error: recv: %s\n", strerror(errno));
		goto out;
	}
	reply[n] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	printf("%s\n", reply);
 out:
	close(fd);
}

static const char *
helper_state(const struct fw *fw)
{
	struct pollfd pfd;

	pfd.fd = fw_fd(fw);
	pfd.events = POLLIN;
	if (pfd.fd < 0)
		return "dead";
	/* The helper never speaks unasked: readable means EOF. */
	return poll(&pfd, 1, 0) == 0 ? "alive" : "dead";
}

int
main(int argc, char **argv)
{
	struct fw *fw = NULL;
	char line[512], err[512], self[PATH_MAX], *args;
	ssize_t n;
	int i, verbose = 0;
	bool helper = false;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--firewall") == 0)
			helper = true;
		else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else {
			fprintf(stderr, "usage: fw_drive [--firewall] [-v]...\n");
			return 2;
		}
	}
	if (helper)
		return fw_helper_main(STDIN_FILENO, STDOUT_FILENO, verbose);

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		perror("readlink");
		return 1;
	}
	self[n] = '\0';
	setvbuf(stdout, NULL, _IOLBF, 0);
	config_clear();

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		args = strchr(line, ' ');
		if (args != NULL)
			*args++ = '\0';
		else
			args = line + strlen(line);

		if (strcmp(line, "start") == 0) {
			if (fw != NULL)
				printf("error: already started\n");
			else if ((fw = fw_start(self, verbose, err,
			    sizeof(err))) == NULL)
				printf("error: %s\n", err);
			else
				printf("started\n");
		} else if (strcmp(line, "port") == 0) {
			cfg.port = (uint16_t)atoi(args);
			printf("ok\n");
		} else if (strcmp(line, "fam") == 0) {
			cfg.ipv4 = strchr(args, '4') != NULL;
			cfg.ipv6 = strchr(args, '6') != NULL;
			printf("ok\n");
		} else if (strcmp(line, "prerouting") == 0) {
			cfg.prerouting = atoi(args) != 0;
			printf("ok\n");
		} else if (strcmp(line, "exempt") == 0) {
			printf("%s\n", add_exempt(args) == 0 ? "ok" :
			    "error: bad exempt");
		} else if (strcmp(line, "inc") == 0 ||
		    strcmp(line, "exc") == 0) {
			printf("%s\n", add_subnet(args, line[0] == 'e') == 0 ?
			    "ok" : "error: bad subnet");
		} else if (strcmp(line, "dns") == 0) {
			printf("%s\n", add_dns(args) == 0 ? "ok" :
			    "error: bad dns");
		} else if (strcmp(line, "leaks") == 0) {
			cfg.block_leaks = atoi(args) != 0;
			printf("ok\n");
		} else if (strcmp(line, "mark") == 0) {
			printf("mark 0x%08x\n", (unsigned int)fw_mark(fw));
		} else if (strcmp(line, "msock") == 0) {
			marked_socket(fw, args);
		} else if (strcmp(line, "clear") == 0) {
			config_clear();
			printf("ok\n");
		} else if (strcmp(line, "apply") == 0) {
			if (fw_apply(fw, &cfg, err, sizeof(err)) != 0)
				printf("error: %s\n", err);
			else
				printf("applied\n");
		} else if (strcmp(line, "alive") == 0) {
			printf("%s\n", helper_state(fw));
		} else if (strcmp(line, "stop") == 0) {
			fw_stop(fw);
			fw = NULL;
			printf("stopped\n");
		} else if (strcmp(line, "quit") == 0) {
			break;
		} else
			printf("error: unknown command %s\n", line);
	}
	fw_stop(fw);
	return 0;
}
