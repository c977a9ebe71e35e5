/* SPDX-License-Identifier: ISC */
/*
 * fuzz_replay.c - run a libFuzzer target over every file of a corpus
 * directory, for builds without libFuzzer.  Fails if the directory is
 * missing or empty, so an absent corpus cannot pass silently.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	char		 path[4096];
	uint8_t		*buf;
	long		 len;
	int		 count = 0;

	if (argc != 2 || (d = opendir(argv[1])) == NULL) {
		fprintf(stderr, "usage: %s CORPUS_DIR (readable)\n", argv[0]);
		return 2;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		if (len < 0 || (buf = malloc((size_t)len + 1)) == NULL) {
			fclose(f);
			return 1;
		}
		if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			fclose(f);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		count++;
	}
	closedir(d);
	printf("replayed %d inputs\n", count);
	return count > 0 ? 0 : 1;
}
