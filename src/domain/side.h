/*
 * The two sides of circle: the query side reads, the command side writes.
 * A store is opened for one side (its statements and its database user) and
 * a worker serves one side's routes; both take this one enum.
 */
#ifndef CIRCLE_DOMAIN_SIDE_H
#define CIRCLE_DOMAIN_SIDE_H

enum side {
	SIDE_READ = 0, /* queries: SELECTs only */
	SIDE_WRITE,    /* commands: appends and their projection */
};

#endif
