/*
 * The two sides of circle: the query side reads, the command side writes.
 * A worker serves one side's routes, and the store's connection roles
 * (store.h's enum store_role) begin with these two, so that a store opened
 * for a side prepares that side's statements under that side's user.
 */
#ifndef CIRCLE_DOMAIN_SIDE_H
#define CIRCLE_DOMAIN_SIDE_H

enum side {
	SIDE_READ = 0, /* queries: SELECTs only */
	SIDE_WRITE,    /* commands: appends and their projection */
};

#endif
