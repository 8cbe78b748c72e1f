/* hold-readers: fills the reader table of a jit store and keeps it full,
 * for the end-to-end tests.
 *
 *   hold-readers STORE_DIR [COUNT]
 *
 * Opens the store's environment read-only and begins read transactions
 * until COUNT are open or LMDB reports that its reader table is full
 * (126 slots, LMDB's default). The environment is opened
 * with MDB_NOTLS, so every transaction takes a slot of its own even though
 * they all live in one thread. It then prints "held N" on stdout and
 * sleeps until killed; killed with SIGKILL, it leaves N stale slots that
 * the next process to check for dead readers clears.
 *
 * Exit status: 1 when the store cannot be opened, 2 on usage errors. */

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOLD_MAX 4096

int main(int argc, char **argv)
{
	static MDB_txn *txns[HOLD_MAX];
	MDB_env *env = NULL;
	long count = HOLD_MAX;
	long held = 0;
	char *end;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: hold-readers STORE_DIR [COUNT]\n");
		return 2;
	}
	if (argc == 3) {
		errno = 0;
		count = strtol(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || count < 1 || count > HOLD_MAX) {
			fprintf(stderr, "hold-readers: bad count %s\n", argv[2]);
			return 2;
		}
	}

	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS, 0600);
	if (rc != 0) {
		fprintf(stderr, "hold-readers: opening %s: %s\n", argv[1],
			mdb_strerror(rc));
		return 1;
	}

	while (held < count) {
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txns[held]);
		if (rc == MDB_READERS_FULL)
			break;
		if (rc != 0) {
			fprintf(stderr, "hold-readers: read transaction %ld: %s\n",
				held + 1, mdb_strerror(rc));
			return 1;
		}
		held++;
	}

	printf("held %ld\n", held);
	fflush(stdout);
	for (;;)
		pause();
}
