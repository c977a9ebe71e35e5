/* SPDX-License-Identifier: ISC */
/*
 * fw_hosts.c - the helper's block of /etc/hosts; see fw_hosts.h.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fw_hosts.h"

#define FW_HOSTS_MARK		"# cshuttle "

bool
fw_hosts_name_ok(const char *name, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > FW_HOSTS_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') || ++label > 63)
			return false;
	}
	return label > 0;
}

/* An id of our shape: the prefix, digits, '-', digits. */
static bool
fw_hosts_id_ok(const char *id, size_t len)
{
	size_t	i, pl = strlen(FW_HOSTS_ID_PREFIX), digits = 0;
	bool	dash = false;

	if (len <= pl || len >= FW_HOSTS_ID_MAX ||
	    memcmp(id, FW_HOSTS_ID_PREFIX, pl) != 0)
		return false;
	for (i = pl; i < len; i++) {
		if (id[i] == '-' && !dash && digits > 0) {
			dash = true;
			digits = 0;
		} else if (id[i] >= '0' && id[i] <= '9')
			digits++;
		else
			return false;
	}
	return dash && digits > 0;
}

/*
 * Is the line [p, p+len) (without its '\n') "# cshuttle <id> <word>"?
 * The id is returned in id (NUL-terminated).
 */
static bool
fw_hosts_marker(const char *p, size_t len, const char *word, char *id)
{
	size_t	ml = strlen(FW_HOSTS_MARK), wl = strlen(word), il;

	if (len < ml + wl + 2 || memcmp(p, FW_HOSTS_MARK, ml) != 0 ||
	    memcmp(p + len - wl, word, wl) != 0 || p[len - wl - 1] != ' ')
		return false;
	il = len - ml - wl - 1;
	if (!fw_hosts_id_ok(p + ml, il))
		return false;
	memcpy(id, p + ml, il);
	id[il] = '\0';
	return true;
}

/* Where the line at off ends (its '\n' or the end), and its length
 * without the '\n'. */
static size_t
fw_hosts_line(const char *text, size_t len, size_t off, size_t *linelen)
{
	const char	*nl = memchr(text + off, '\n', len - off);
	size_t		 end = nl != NULL ? (size_t)(nl - text) : len;

	*linelen = end - off;
	return nl != NULL ? end + 1 : end;
}

/* The first end line of id from off on: the offset past it, or 0. */
static size_t
fw_hosts_block_end(const char *text, size_t len, size_t off, const char *id)
{
	char	 got[FW_HOSTS_ID_MAX];
	size_t	 ll, next;

	while (off < len) {
		next = fw_hosts_line(text, len, off, &ll);
		if (fw_hosts_marker(text + off, ll, "end", got) &&
		    strcmp(got, id) == 0)
			return next;
		off = next;
	}
	return 0;
}

int
fw_hosts_rewrite(const char *text, size_t len, const char *id,
    const struct fw_host *hosts, size_t n, fw_hosts_live_fn *live, void *arg,
    char **out, size_t *outlen)
{
	char	 got[FW_HOSTS_ID_MAX], a[ADDR_STRLEN], *buf;
	size_t	 cap, olen = 0, off = 0, ll, next, end, i;
	int	 r;

	*out = NULL;
	*outlen = 0;
	if (!fw_hosts_id_ok(id, strlen(id)) || n > FW_MAX_HOSTS)
		return -1;
	for (i = 0; i < n; i++)
		if ((hosts[i].addr.family != ADDR_V4 &&
		    hosts[i].addr.family != ADDR_V6) ||
		    !fw_hosts_name_ok(hosts[i].name, strlen(hosts[i].name)))
			return -1;
	/* The text, a '\n', two markers and the lines, each bounded. */
	cap = len + 1 + 2 * (sizeof(FW_HOSTS_MARK) + FW_HOSTS_ID_MAX + 8) +
	    n * (ADDR_STRLEN + FW_HOSTS_NAME_MAX + 2) + 1;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	/*
	 * A block to go ends at the first end line of its id; a begin or end
	 * line of such an id without its partner goes alone.  So no marker
	 * of those ids is left, and a second pass changes nothing.
	 */
	while (off < len) {
		next = fw_hosts_line(text, len, off, &ll);
		if (fw_hosts_marker(text + off, ll, "begin", got) &&
		    (strcmp(got, id) == 0 || !live(got, arg))) {
			end = fw_hosts_block_end(text, len, next, got);
			off = end != 0 ? end : next;
			continue;
		}
		if (fw_hosts_marker(text + off, ll, "end", got) &&
		    (strcmp(got, id) == 0 || !live(got, arg))) {
			off = next;
			continue;
		}
		memcpy(buf + olen, text + off, next - off);
		olen += next - off;
		off = next;
	}
	if (n > 0) {
		if (olen > 0 && buf[olen - 1] != '\n')
			buf[olen++] = '\n';
		r = snprintf(buf + olen, cap - olen, "%s%s begin\n",
		    FW_HOSTS_MARK, id);
		olen += (size_t)r;
		for (i = 0; i < n; i++) {
			addr_format(&hosts[i].addr, false, a, sizeof(a));
			r = snprintf(buf + olen, cap - olen, "%s %s\n", a,
			    hosts[i].name);
			olen += (size_t)r;
		}
		r = snprintf(buf + olen, cap - olen, "%s%s end\n",
		    FW_HOSTS_MARK, id);
		olen += (size_t)r;
	}
	buf[olen] = '\0';
	*out = buf;
	*outlen = olen;
	return 0;
}

/*
 * Field 22 of /proc/<pid>/stat; 0 when there is no such process, or
 * only its zombie (field 3 Z or X): a helper killed with its client may
 * stay one where nothing reaps orphans, and it holds nothing any more.
 */
static unsigned long long
fw_hosts_start_time(long pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v = 0;
	ssize_t			 r;
	int			 fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	/* The command name may hold anything: count from its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' ||
	    p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		if ((p = strchr(p + 1, ' ')) == NULL)
			return 0;
	if (p == NULL || sscanf(p + 1, "%llu", &v) != 1)
		return 0;
	return v;
}

int
fw_hosts_self_id(char *buf, size_t len)
{
	long			 pid = (long)getpid();
	unsigned long long	 st;
	int			 r;

	if ((st = fw_hosts_start_time(pid)) == 0)
		return -1;
	r = snprintf(buf, len, "%s%ld-%llu", FW_HOSTS_ID_PREFIX, pid, st);
	return r > 0 && (size_t)r < len ? 0 : -1;
}

bool
fw_hosts_id_live(const char *id, void *arg)
{
	unsigned long long	 st;
	long			 pid;
	char			 tail;

	(void)arg;
	if (sscanf(id, FW_HOSTS_ID_PREFIX "%ld-%llu%c", &pid, &st, &tail) != 2 ||
	    pid <= 0)
		return true;	/* not ours to judge: kept */
	return fw_hosts_start_time(pid) == st;
}

/* The whole file, at most FW_HOSTS_MAX_BYTES.  0, or -1 with err. */
static int
fw_hosts_read(int fd, const char *path, char **text, size_t *len, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 have = 0;
	ssize_t	 r;

	if ((buf = malloc(FW_HOSTS_MAX_BYTES + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		r = read(fd, buf + have, FW_HOSTS_MAX_BYTES + 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > FW_HOSTS_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %d bytes", path,
			    FW_HOSTS_MAX_BYTES);
			free(buf);
			return -1;
		}
	}
	*text = buf;
	*len = have;
	return 0;
}

static int
fw_hosts_write_all(int fd, const char *buf, size_t len, off_t at)
{
	ssize_t	 r;
	size_t	 off = 0;

	while (off < len) {
		if ((r = pwrite(fd, buf + off, len - off, at + (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)r;
	}
	return 0;
}

/* A temporary file beside path with st's mode and owner, renamed over
 * it.  0, -1 with errno (EBUSY: path is a mount point). */
static int
fw_hosts_replace(const char *path, const struct stat *st, const char *buf,
    size_t len)
{
	char	tmp[PATH_MAX];
	int	fd, e;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.cshuttle-XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (fchmod(fd, st->st_mode & 07777) != 0 ||
	    (fchown(fd, st->st_uid, st->st_gid) != 0 && errno != EPERM) ||
	    fw_hosts_write_all(fd, buf, len, 0) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0) {
		e = errno;
		(void)close(fd);
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		(void)unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* A mount point field of /proc/self/mountinfo ("\\040" for a space...)
 * equal to path? */
static bool
fw_hosts_field_is(const char *f, size_t len, const char *path)
{
	size_t	i = 0;

	while (i < len) {
		if (f[i] == '\\' && i + 3 < len && f[i + 1] >= '0' &&
		    f[i + 1] <= '3') {
			if (*path++ != (char)(((f[i + 1] - '0') << 6) |
			    ((f[i + 2] - '0') << 3) | (f[i + 3] - '0')))
				return false;
			i += 4;
		} else if (*path++ != f[i++])
			return false;
	}
	return *path == '\0';
}

/*
 * Is path (absolute) a mount point of this mount namespace, as a file
 * bind-mounted over it is?  Renaming over it would fail (EBUSY), and
 * its directory may not even be writable (a read-only root).
 */
static bool
fw_hosts_is_mount(const char *path)
{
	FILE	*f;
	char	*line = NULL, *p, *e;
	size_t	 cap = 0;
	int	 i;
	bool	 found = false;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNT-POINT ... */
		for (p = line, i = 0; i < 4 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p == NULL || (e = strchr(p, ' ')) == NULL)
			continue;
		found = fw_hosts_field_is(p, (size_t)(e - p), path);
	}
	free(line);
	fclose(f);
	return found;
}

int
fw_hosts_update(const char *path, const char *id, const struct fw_host *hosts,
    size_t n, char *err, size_t errlen)
{
	struct stat	 st, now;
	char		*text = NULL, *out = NULL;
	size_t		 len = 0, olen;
	int		 fd = -1, wfd = -1, ret = -1;

	/*
	 * Another helper may be changing the file: the lock is on the file
	 * itself, and whoever got it after the file was replaced takes the
	 * new one.  A symbolic link would be replaced by a file of ours.
	 */
	for (;;) {
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file", path);
			goto out;
		}
		if (flock(fd, LOCK_EX) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (lstat(path, &now) == 0 && now.st_dev == st.st_dev &&
		    now.st_ino == st.st_ino)
			break;
		close(fd);
		fd = -1;
	}
	if (fw_hosts_read(fd, path, &text, &len, err, errlen) != 0)
		goto out;
	if (fw_hosts_rewrite(text, len, id, hosts, n, fw_hosts_id_live, NULL,
	    &out, &olen) != 0) {
		snprintf(err, errlen, "%s: out of memory or a bad entry", path);
		goto out;
	}
	if (olen == len && memcmp(out, text, len) == 0) {
		ret = 0;
		goto out;
	}
	if (!fw_hosts_is_mount(path)) {
		if (fw_hosts_replace(path, &st, out, olen) == 0) {
			ret = 0;
			goto out;
		}
		if (errno != EBUSY) {	/* a mount point all the same */
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	/* A mount point: in place, the new text first, then its length,
	 * so that a reader never sees an empty file.  (The lock stays with
	 * the descriptor read from.) */
	if ((wfd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fw_hosts_write_all(wfd, out, olen, 0) != 0 ||
	    ftruncate(wfd, (off_t)olen) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
 out:
	if (wfd >= 0)
		close(wfd);
	if (fd >= 0)
		close(fd);	/* and with it the lock */
	free(text);
	free(out);
	return ret;
}
