/*
 * The glibc side of crates/getopt's transcripts: calls getopt_long in a
 * loop, as the emulated programs do, with the long-option table of the
 * emulation's tests (src/lib.rs, TABLE), and prints what each call
 * returned in the transcript format of glibc-transcripts.txt (unescaped).
 *
 *   glibc_probe SHORTOPTS [ARG...]
 *
 * parses `prog ARG...` with SHORTOPTS; POSIXLY_CORRECT comes from the
 * environment. glibc's diagnostics go to stderr, which is merged into
 * stdout so that they land between the results in the order they happen.
 * Built and run by `cargo xtask getopt-transcripts`.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Same names, has_arg and ids (val) as TABLE in src/lib.rs. */
static const struct option table[] = {
	{ "rep", no_argument, NULL, 0 },
	{ "repair", no_argument, NULL, 1 },
	{ "mountns", required_argument, NULL, 2 },
	{ "alias", no_argument, NULL, 7 },
	{ "aliaz", no_argument, NULL, 7 },
	{ "alpha", required_argument, NULL, 7 },
	{ NULL, 0, NULL, 0 },
};

static void put(const char *s)
{
	fwrite(s, 1, strlen(s), stdout);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s SHORTOPTS [ARG...]\n", argv[0]);
		return 2;
	}
	const char *shortopts = argv[1];
	/* argv[1..] becomes the parsed vector, "prog" its argv[0]. */
	char prog[] = "prog";
	argv[1] = prog;
	int n = argc - 1;
	char **args = argv + 1;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
		return 2;

	for (;;) {
		int longindex = -1;
		int c = getopt_long(n, args, shortopts, table, &longindex);
		if (c == -1)
			break;
		if (c == '?') {
			put("E\n");
		} else if (longindex >= 0) {
			printf("L%d", c);
			if (optarg) {
				put("=");
				put(optarg);
			}
			put("\n");
		} else {
			printf("S%c\n", c);
		}
	}
	for (int i = optind; i < n; i++) {
		put("P");
		put(args[i]);
		put("\n");
	}
	return 0;
}
