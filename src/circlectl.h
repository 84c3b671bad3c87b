/*
 * The subcommands of circlectl that live in files of their own.
 */
#ifndef CIRCLE_CIRCLECTL_H
#define CIRCLE_CIRCLECTL_H

/* circlectl tail [--after P] [--follow] [--group GROUP]; argv[0] is
 * "tail". Returns the exit status. */
int circlectl_tail(int argc, char **argv);

#endif
