/* SPDX-License-Identifier: ISC */
/*
 * filecheck.c - files that only root or the effective user could have
 * written (filecheck.h), and reading them, live or from a record.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filecheck.h"

int
filecheck_rule(const struct stat *file, const struct stat *dir, const char *dirname,
    uid_t euid, char *why, size_t whylen)
{
	if (!S_ISREG(file->st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -1;
	}
	if ((file->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "writable by group or others (chmod go-w)");
		return -1;
	}
	if (file->st_uid != 0 && file->st_uid != euid) {
		snprintf(why, whylen, "owned by uid %u, neither root nor me",
		    (unsigned)file->st_uid);
		return -1;
	}
	/* Whoever may rename entries in the directory may swap the file. */
	if ((dir->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "its directory %s is writable by group or "
		    "others (chmod go-w)", dirname);
		return -1;
	}
	if (dir->st_uid != 0 && dir->st_uid != euid) {
		snprintf(why, whylen, "its directory %s is owned by uid %u, neither "
		    "root nor me", dirname, (unsigned)dir->st_uid);
		return -1;
	}
	return 0;
}

/*
 * The directory that holds the open file fd: from the kernel's name for
 * the descriptor (symbolic links resolved), else from `path` as given.
 */
static void
filecheck_dir(int fd, const char *path, char *dir, size_t len)
{
	char	link[64], *slash;
	ssize_t	n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, dir, len - 1)) > 0 && dir[0] == '/')
		dir[n] = '\0';
	else
		snprintf(dir, len, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, len, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
}

int
filecheck_fd(int fd, const char *path, char *why, size_t whylen)
{
	struct stat	file, dir;
	char		dirname[PATH_MAX];

	if (fstat(fd, &file) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(file.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -1;
	}
	filecheck_dir(fd, path, dirname, sizeof(dirname));
	if (stat(dirname, &dir) == -1) {
		snprintf(why, whylen, "its directory %s: %s", dirname, strerror(errno));
		return -1;
	}
	return filecheck_rule(&file, &dir, dirname, geteuid(), why, whylen);
}

int
filecheck_path(const char *path, char *why, size_t whylen)
{
	int	fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	r = filecheck_fd(fd, path, why, whylen);
	close(fd);
	return r;
}

bool
filecheck_needed(void)
{
	return geteuid() == 0;
}

/* This thread's record or source, at most one of them (filecheck.h). */
static _Thread_local struct filecheck_files		*filecheck_rec;
static _Thread_local const struct filecheck_files	*filecheck_src;

void
filecheck_files_record(struct filecheck_files *f)
{
	filecheck_rec = f;
	filecheck_src = NULL;
}

void
filecheck_files_serve(const struct filecheck_files *f)
{
	filecheck_src = f;
	filecheck_rec = NULL;
}

void
filecheck_files_clear(struct filecheck_files *f)
{
	size_t	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].why);
		free(f->v[i].data);
	}
	memset(f, 0, sizeof(*f));
}

/* The file as the record has it; a path it lacks was never read. */
static int
filecheck_read_served(const char *path, char **data, size_t *len,
    enum filecheck_step *step, char *why, size_t whylen)
{
	const struct filecheck_file	*e;
	size_t				 i;

	for (i = 0; i < filecheck_src->n; i++) {
		e = &filecheck_src->v[i];
		if (strcmp(e->path, path) != 0)
			continue;
		*step = e->step;
		if (e->step != FILECHECK_OK) {
			snprintf(why, whylen, "%s", e->why);
			return -1;
		}
		if ((*data = malloc(e->len + 1)) == NULL) {
			*step = FILECHECK_NOMEM;
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		memcpy(*data, e->data, e->len);
		(*data)[e->len] = '\0';
		*len = e->len;
		return 0;
	}
	*step = FILECHECK_OPEN;
	snprintf(why, whylen, "not read by the privileged process");
	return -1;
}

static void
filecheck_read_remember(const char *path, const char *data, size_t len,
    enum filecheck_step step, const char *why)
{
	struct filecheck_file	*e;

	if (filecheck_rec->n == FILECHECK_FILES_MAX) {
		filecheck_rec->overflow = true;
		return;
	}
	e = &filecheck_rec->v[filecheck_rec->n];
	memset(e, 0, sizeof(*e));
	e->step = step;
	if ((e->path = strdup(path)) == NULL ||
	    (e->why = strdup(step == FILECHECK_OK ? "" : why)) == NULL ||
	    (step == FILECHECK_OK && (e->data = malloc(len + 1)) == NULL)) {
		free(e->path);
		free(e->why);
		filecheck_rec->overflow = true;
		return;
	}
	if (e->data != NULL) {
		memcpy(e->data, data, len);
		e->data[len] = '\0';
		e->len = len;
	}
	filecheck_rec->n++;
}

int
filecheck_read(const char *path, bool check, size_t max, char **data,
    size_t *len, enum filecheck_step *step, char *why, size_t whylen)
{
	char	*buf = NULL;
	size_t	 n = 0;
	ssize_t	 r;
	int	 fd = -1, ret = -1;

	*data = NULL;
	*len = 0;
	why[0] = '\0';
	if (filecheck_src != NULL)
		return filecheck_read_served(path, data, len, step, why, whylen);
	*step = FILECHECK_OPEN;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (check ? O_NONBLOCK : 0))) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	*step = FILECHECK_CHECK;
	if (check && filecheck_fd(fd, path, why, whylen) != 0)
		goto out;
	*step = FILECHECK_NOMEM;
	if ((buf = malloc(max + 2)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	*step = FILECHECK_READ;
	for (;;) {
		r = read(fd, buf + n, max + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			break;
	}
	buf[n] = '\0';
	*step = FILECHECK_OK;
	*data = buf;
	*len = n;
	buf = NULL;	/* transferred */
	ret = 0;
 out:
	if (fd != -1)
		close(fd);
	free(buf);
	if (filecheck_rec != NULL)
		filecheck_read_remember(path, *data, *len, *step, why);
	return ret;
}
