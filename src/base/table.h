/*
 * table.h — a hash table from a lead id to a fixed-size record: the
 * engine's lead table, and the Kafka layer's sets of changed leads and
 * pre-images.
 *
 * A hash table from a lead id (a byte string of at most FD_TABLE_KEY_MAX
 * bytes; embedded NULs are fine) to a record of `record_size` bytes whose
 * layout belongs to the caller. It holds millions of leads:
 * open addressing with Robin Hood probing, 8-byte slots, load factor at most
 * 3/4, deletion by backward shift (no tombstones).
 *
 * Records have stable addresses and a stable uint32 index for as long as
 * they live: they are carved from chunks of FD_TABLE_CHUNK_RECORDS that
 * never move, and growth only rebuilds the slot array. A removed record's
 * memory and index may be handed to a later insert. Records are aligned to
 * FD_TABLE_RECORD_ALIGN bytes and zero-filled on insert.
 *
 * Ownership: the table owns its records and copies of the keys (the caller's
 * key buffers are only read during the call). fd_table_free releases every
 * record, key and slot; records hold no pointers the table knows about, so
 * anything a record points to is the caller's to free first.
 *
 * It is not a general dictionary (one value type, byte-string keys only) and
 * not thread-safe. Lead ids come from outside: where a key lives is decided
 * by XXH3 with a random seed per table (getrandom), so crafted ids cannot
 * flood one probe chain; nothing stored or sent depends on the seed (the
 * iteration order is the insertion order of record indices).
 */
#ifndef FD_BASE_TABLE_H
#define FD_BASE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fd_table fd_table;

#define FD_TABLE_KEY_MAX 255          /* longest key, in bytes */
#define FD_TABLE_CHUNK_RECORDS 4096   /* records per never-moving chunk */
#define FD_TABLE_RECORD_ALIGN 16      /* every record address is a multiple */
#define FD_TABLE_RECORD_MAX (1u << 20) /* largest record_size accepted */

/* record_size: bytes per record (zero-filled on insert), at most
 * FD_TABLE_RECORD_MAX. expected: how many leads to size the slot array for
 * (0: small; it grows). NULL on allocation failure or a bad record_size. */
fd_table *fd_table_new(size_t record_size, size_t expected);
/* The same with a given placement seed (0: a random one), for tests and
 * benchmarks that want the same layout every run. */
fd_table *fd_table_new_seeded(size_t record_size, size_t expected, uint64_t seed);
/* Release the table, every record and every key. NULL is a no-op. */
void fd_table_free(fd_table *t);

/* Latency hiding for batches, in two stages some lookups apart: the first
 * prefetches the key's home slot; the second reads the (now cached) slot and
 * prefetches the record's first cache lines. Results are unaffected. */
void fd_table_prefetch(const fd_table *t, const char *key, size_t len);
void fd_table_prefetch_record(const fd_table *t, const char *key, size_t len);

/* How many bytes of a record fd_table_prefetch_record brings in (default:
 * the whole record, at most 1 KiB). */
void fd_table_set_hot_bytes(fd_table *t, size_t bytes);

/* Look up; NULL if absent (or len > FD_TABLE_KEY_MAX). */
void *fd_table_get(const fd_table *t, const char *key, size_t len);

/* Find or insert (zeroed record); *created says which (created may be NULL).
 * NULL on allocation failure or len > FD_TABLE_KEY_MAX, with the table
 * unchanged. */
void *fd_table_put(fd_table *t, const char *key, size_t len, bool *created);

/* Remove; returns false if absent. The record's memory may be reused by a
 * later insert. `key` may point at the table's own copy (fd_table_key). */
bool fd_table_remove(fd_table *t, const char *key, size_t len);

/* Remove the live record `record` (as returned by get/put/at/next) without
 * comparing keys. */
void fd_table_remove_record(fd_table *t, void *record);

/* Stable index of a live record. */
uint32_t fd_table_index(const fd_table *t, const void *record);
/* The live record at `index`; NULL if not live. */
void *fd_table_at(const fd_table *t, uint32_t index);

/* The table's NUL-terminated copy of a live record's key; *len (if not NULL)
 * gets its length. Valid until the record is removed. */
const char *fd_table_key(const fd_table *t, const void *record, size_t *len);

size_t fd_table_count(const fd_table *t);

/* Iterate live records: start with *cursor = 0; returns NULL at the end.
 * Order is index order (deterministic for a given sequence of operations).
 * Removing the record just returned is safe; a record inserted during the
 * walk may or may not be visited. */
void *fd_table_next(const fd_table *t, uint32_t *cursor);

/* Record indices handed out so far: every live index is below it. */
uint32_t fd_table_indices(const fd_table *t);

/* The longest distance of a key from its home slot (a full scan of the
 * slots: for tests and diagnostics, not the hot path). */
uint32_t fd_table_longest_probe(const fd_table *t);

/* Growth is spread over operations: when the table doubles, the old slot
 * array is copied into the new one a few positions per insert and removal
 * (lookups look in both meanwhile), never all at once. This copies up to
 * `n` more positions now (for idle moments); no-op when no growth is under
 * way. */
void fd_table_step(fd_table *t, uint32_t n);

/* Ask the kernel for transparent huge pages for the memory allocated from
 * now on (record chunks, slot arrays): faster at millions of records (TLB
 * misses), at the price of page faults that may stall for memory
 * compaction (see big_alloc in table.c). Off by default. */
void fd_table_set_huge_pages(fd_table *t, bool on);

/* From now on the table only shrinks: puts fail (NULL), and each chunk of
 * records is given back to the system as soon as its last record is
 * removed (a table being emptied into another, e.g. after a reload, so the
 * two together hold no more than the records that exist). Lookups, removal
 * and iteration work as before. */
void fd_table_drain(fd_table *t);

/* Bytes held: slots + record chunks (with their headers) + key storage +
 * bookkeeping. */
size_t fd_table_memory(const fd_table *t);

/* A stable 64-bit hash of a byte string: the same on every host, run and
 * version, for what is stored or compared across processes (duplicate ids
 * in a lead's state, fingerprints). Not where the table places keys. */
uint64_t fd_table_hash(const char *key, size_t len);

#endif
