/* SPDX-License-Identifier: ISC */
/*
 * filecheck.c - files that only root or the effective user could have
 * written (filecheck.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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
