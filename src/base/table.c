/*
 * table.c — the lead table (see table.h).
 *
 * Three parts, each owned by the table and released by fd_table_free:
 *
 * Slots: a power-of-two array of 8-byte {tag, ref} pairs, Robin Hood probed.
 * tag is the upper 32 bits of the key's 64-bit hash and ref is the record
 * index + 1 (0 = empty). A key's home slot is the top `bits` bits of its
 * hash, which are the top bits of the tag, so growth and probe distances
 * never need the key or the rest of the hash, and a tag mismatch skips the
 * key comparison. This keeps slots at 8 bytes instead of 16 for a full hash
 * plus index; it limits the slot array to 2^32 slots, beyond what a uint32
 * record index can fill anyway. Deletion shifts the following run back by
 * one (no tombstones), so probe lengths never degrade with churn.
 *
 * Growth: at 3/4 load the slot array doubles, but the old one is copied
 * into it only a few positions per insert and removal (GROW_STEP, and
 * fd_table_step), never in one go (a 5 M-lead table took 134-246 ms). In
 * between, a key lives either in the new array or at a position of the old
 * one not copied yet; lookups try the new array, then the old one (a match
 * at a copied position is stale); a key removed from the old array leaves
 * a tombstone there (its tag kept, so the run's probe distances stay
 * right), which is never copied. Copying is sequential over old positions
 * and Robin Hood insertion into the new array needs only the tag.
 *
 * Records: chunks of FD_TABLE_CHUNK_RECORDS entries, each a 48-byte header
 * {key pointer, index, key length or free link, 32 bytes of inline key}
 * followed by the caller's record rounded up to 16 bytes. Chunks never move,
 * so record addresses are stable; index -> address is a shift and a
 * multiply, address -> index reads the header. Free records form a LIFO list
 * (recently freed memory is warm). Chunks and slot arrays come from mmap,
 * 2 MiB aligned (see big_alloc).
 *
 * Keys: a key shorter than 32 bytes (every lead id we have seen: UUIDs,
 * emails, CRM ids) is stored in its record's header, so a lookup hit costs
 * two cache misses (slot, then header + record), not three. Longer keys are
 * copied with a trailing NUL into an arena of blocks (4 KiB doubling to
 * 1 MiB), in 8-byte size classes; a removed key's bytes go on its class's
 * free list. Nothing is ever moved, so key pointers are stable too.
 *
 * Placement uses XXH3 (Debian's libxxhash) seeded per table at random.
 * fd_table_hash, the stable hash for what outlives the process, is our own:
 * each 8-byte little-endian word is pre-mixed (multiply, xor-shift) and
 * folded into the state (xor, multiply, xor-shift); the length seeds the
 * state; a two-round multiply/xor-shift finaliser spreads every input bit.
 */
#include "base/table.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SHIFT 12
#define CHUNK_MASK (FD_TABLE_CHUNK_RECORDS - 1)
#define MIN_BITS 4
#define MAX_BITS 32
#define GROW_STEP 4 /* old positions copied per insert or removal during a
                       growth: > 4/3, so it ends before the next one starts */
#define KEY_GRAIN 8
#define KEY_CLASSES ((FD_TABLE_KEY_MAX + 1) / KEY_GRAIN + 1)
#define ARENA_FIRST_BLOCK 4096
#define ARENA_MAX_BLOCK (1u << 20)

_Static_assert(FD_TABLE_CHUNK_RECORDS == 1u << CHUNK_SHIFT, "chunk size is 2^CHUNK_SHIFT");
_Static_assert(_Alignof(max_align_t) <= FD_TABLE_RECORD_ALIGN, "records fit any type");

typedef struct table_slot {
	uint32_t tag; /* hash >> 32 */
	uint32_t ref; /* record index + 1; 0 = empty */
} table_slot;

#define KEY_INLINE 32 /* keys shorter than this live in the header itself */

typedef struct record_hdr {
	char *key;      /* NULL while the record is free; inl or an arena copy */
	uint32_t index; /* this record's index */
	uint32_t aux;   /* live: key length; free: next free index + 1 (0 = none) */
	char inl[KEY_INLINE];
} record_hdr;

_Static_assert(sizeof(record_hdr) % FD_TABLE_RECORD_ALIGN == 0, "header keeps records aligned");

typedef struct key_arena {
	char **blocks;
	uint32_t n_blocks, blocks_cap;
	char *bump;           /* unused tail of the newest block */
	size_t bump_left;
	size_t next_block;    /* size of the next block to allocate */
	size_t bytes;         /* sum of block sizes */
	char *free_by_class[KEY_CLASSES];
} key_arena;

struct fd_table {
	table_slot *slots;
	uint32_t bits;        /* slot count = 2^bits */
	/* growth, spread over operations: the previous slot array, whose
	 * positions below `moved` are copied into `slots` already; a key is
	 * either in `slots` or at a position >= moved of `old`, never both */
	table_slot *old;
	uint32_t old_bits;
	uint32_t moved;
	size_t count;         /* live records */

	size_t record_size;
	size_t stride;        /* header + record, rounded */
	unsigned char **chunks;
	uint32_t n_chunks, chunks_cap;
	uint32_t n_records;   /* indices handed out so far (live + free) */
	uint32_t free_head;   /* free record index + 1; 0 = none */
	uint32_t *chunk_live; /* live records per chunk (chunks_cap entries) */
	bool draining;        /* fd_table_drain: no record is taken again and
	                         a chunk left empty is given back */
	bool huge;            /* fd_table_set_huge_pages */

	key_arena keys;
	size_t hot;           /* bytes of header + record to prefetch */
	uint64_t seed;        /* of the placement hash: per table, unpredictable */
};

/* ---- hash ---------------------------------------------------------------- */

#define H_SEED UINT64_C(0xd1a6e55e9b9b1325)
#define H_LEN UINT64_C(0xcf0c26ef4243ed53)
#define H_WORD UINT64_C(0x5e6a0a2edd70e34d)
#define H_FOLD UINT64_C(0x4de45321ad915a37)
#define H_FIN1 UINT64_C(0xaed09b824ca87fc3)
#define H_FIN2 UINT64_C(0x1ff135342e825ce1)

static uint64_t load_le(const unsigned char *p, size_t n)
{
	uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(&w, p, 8);
		return w;
	}
#endif
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static uint64_t hash_fold(uint64_t h, uint64_t w)
{
	w *= H_WORD;
	w ^= w >> 31;
	h ^= w;
	h *= H_FOLD;
	h ^= h >> 29;
	return h;
}

uint64_t fd_table_hash(const char *key, size_t len)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = H_SEED ^ ((uint64_t)len * H_LEN);
	while (len >= 8) {
		h = hash_fold(h, load_le(p, 8));
		p += 8;
		len -= 8;
	}
	if (len > 0)
		h = hash_fold(h, load_le(p, len));
	h ^= h >> 32;
	h *= H_FIN1;
	h ^= h >> 29;
	h *= H_FIN2;
	h ^= h >> 32;
	return h;
}

/* Where a key lives: XXH3 with the table's own random seed, so ids crafted
 * to collide cannot pile up in one probe chain (the stable fd_table_hash
 * would let anyone who reads this file craft them). */
static uint64_t place_hash(const fd_table *t, const char *key, size_t len)
{
	return XXH3_64bits_withSeed(key, len, t->seed);
}

static uint64_t random_seed(const void *salt)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
		return seed;
	/* no entropy yet (early boot): still differs per process and table */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return fd_table_hash((const char *)&ts, sizeof ts) ^ (uint64_t)(uintptr_t)salt ^
	       ((uint64_t)getpid() << 32);
}

/* ---- key arena ----------------------------------------------------------- */

static size_t key_class(size_t len)
{
	return (len + 1 + KEY_GRAIN - 1) / KEY_GRAIN; /* bytes incl. NUL, in grains */
}

static void arena_push_free(key_arena *a, char *p, size_t cls)
{
	memcpy(p, &a->free_by_class[cls], sizeof(char *));
	a->free_by_class[cls] = p;
}

/* Room for a key of `len` bytes plus NUL; NULL on allocation failure. */
static char *arena_alloc(key_arena *a, size_t len)
{
	size_t cls = key_class(len);
	char *p = a->free_by_class[cls];
	if (p != NULL) {
		memcpy(&a->free_by_class[cls], p, sizeof(char *));
		return p;
	}
	size_t need = cls * KEY_GRAIN;
	if (a->bump_left < need) {
		if (a->n_blocks == a->blocks_cap) {
			uint32_t cap = a->blocks_cap ? a->blocks_cap * 2 : 16;
			char **blocks = realloc(a->blocks, (size_t)cap * sizeof *blocks);
			if (blocks == NULL)
				return NULL;
			a->blocks = blocks;
			a->blocks_cap = cap;
		}
		size_t size = a->next_block;
		char *block = malloc(size);
		if (block == NULL)
			return NULL;
		/* The old block's tail is not wasted: it serves a smaller class. */
		if (a->bump_left >= KEY_GRAIN)
			arena_push_free(a, a->bump, a->bump_left / KEY_GRAIN);
		a->blocks[a->n_blocks++] = block;
		a->bytes += size;
		a->bump = block;
		a->bump_left = size;
		if (a->next_block < ARENA_MAX_BLOCK)
			a->next_block *= 2;
	}
	p = a->bump;
	a->bump += need;
	a->bump_left -= need;
	return p;
}

static void arena_release(key_arena *a, char *p, size_t len)
{
	if (len >= KEY_INLINE)
		arena_push_free(a, p, key_class(len));
}

static void arena_destroy(key_arena *a)
{
	for (uint32_t i = 0; i < a->n_blocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
}

/* ---- big allocations ------------------------------------------------------ */

/* Record chunks and slot arrays are read at random by millions of leads:
 * they come straight from the kernel, 2 MiB aligned (so transparent huge
 * pages can back them), zeroed and faulted in as they are first used, and
 * go straight back when freed. malloc + memset would touch every page at
 * once (sizing a table for 5 M leads, a reload, wrote 64 MiB in one loop
 * turn), and malloc keeps freed blocks of this size in its heap, so the
 * chunks a draining table gives back never left the process. Below 2 MiB:
 * calloc. `hint`: ask for transparent huge pages (fd_table_set_huge_pages):
 * far fewer TLB misses (bench_engine, pipelined: ~1.3x the events/s at 1 M
 * leads), but the kernel may compact memory inside the page fault that
 * first touches each 2 MiB, in whatever loop turn touches it (bench_stall:
 * turns of up to 173 ms at 5 M leads, 4 ms without), and inserts land on
 * random slots, so a new slot array faults all its huge pages at once. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *big_alloc(size_t bytes, bool hint)
{
	if (bytes < HUGE_PAGE)
		return calloc(1, bytes);
	size_t span = bytes + HUGE_PAGE; /* map one more, trim to the alignment */
	unsigned char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	size_t head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
	if (head > 0)
		munmap(p, head);
	if (span - head > bytes)
		munmap(p + head + bytes, span - head - bytes);
#ifdef MADV_HUGEPAGE
	if (hint)
		(void)madvise(p + head, bytes, MADV_HUGEPAGE);
#else
	(void)hint;
#endif
	return p + head;
}

static void big_free(void *p, size_t bytes)
{
	if (bytes < HUGE_PAGE)
		free(p);
	else if (p != NULL)
		munmap(p, bytes);
}

static table_slot *slots_alloc(const fd_table *t, size_t bytes)
{
	return big_alloc(bytes, t->huge);
}

static void slots_free(table_slot *slots, uint32_t bits)
{
	big_free(slots, ((size_t)1 << bits) * sizeof(table_slot));
}

static size_t chunk_bytes(const fd_table *t)
{
	return FD_TABLE_CHUNK_RECORDS * t->stride;
}

/* ---- records ------------------------------------------------------------- */

static record_hdr *hdr_at(const fd_table *t, uint32_t index)
{
	unsigned char *chunk = t->chunks[index >> CHUNK_SHIFT];
	return (record_hdr *)(void *)(chunk + (size_t)(index & CHUNK_MASK) * t->stride);
}

static void *hdr_record(record_hdr *h)
{
	return h + 1;
}

static const record_hdr *record_hdr_of(const void *record)
{
	return (const record_hdr *)record - 1;
}

/* A fresh or recycled record index; UINT32_MAX on allocation failure. */
static uint32_t record_take(fd_table *t)
{
	if (t->draining)
		return UINT32_MAX;
	if (t->free_head != 0) {
		uint32_t index = t->free_head - 1;
		t->free_head = hdr_at(t, index)->aux;
		t->chunk_live[index >> CHUNK_SHIFT]++;
		return index;
	}
	if (t->n_records >= UINT32_MAX - 1)
		return UINT32_MAX;
	if (t->n_records == (size_t)t->n_chunks * FD_TABLE_CHUNK_RECORDS) {
		if (t->n_chunks == t->chunks_cap) {
			uint32_t cap = t->chunks_cap ? t->chunks_cap * 2 : 4;
			unsigned char **chunks = realloc(t->chunks, (size_t)cap * sizeof *chunks);
			if (chunks == NULL)
				return UINT32_MAX;
			t->chunks = chunks;
			uint32_t *live = realloc(t->chunk_live, (size_t)cap * sizeof *live);
			if (live == NULL)
				return UINT32_MAX;
			t->chunk_live = live;
			t->chunks_cap = cap;
		}
		unsigned char *chunk = big_alloc(chunk_bytes(t), t->huge);
		if (chunk == NULL)
			return UINT32_MAX;
		t->chunk_live[t->n_chunks] = 0;
		t->chunks[t->n_chunks++] = chunk;
	}
	t->chunk_live[t->n_records >> CHUNK_SHIFT]++;
	return t->n_records++;
}

static void record_release(fd_table *t, uint32_t index)
{
	record_hdr *h = hdr_at(t, index);
	h->key = NULL;
	uint32_t c = index >> CHUNK_SHIFT;
	t->chunk_live[c]--;
	if (t->draining) {
		/* nothing is taken again: an empty chunk goes back to the system */
		if (t->chunk_live[c] == 0) {
			big_free(t->chunks[c], chunk_bytes(t));
			t->chunks[c] = NULL;
		}
		return;
	}
	h->aux = t->free_head;
	t->free_head = index + 1;
}

/* ---- slots --------------------------------------------------------------- */

/* A key removed from the old array while a growth is under way: its slot
 * keeps its tag (the probe distances of the run stay right) and is never
 * copied. */
#define TOMBSTONE UINT32_MAX

static uint32_t slot_mask(const fd_table *t)
{
	return (uint32_t)(((uint64_t)1 << t->bits) - 1);
}

static uint32_t home_of(const fd_table *t, uint32_t tag)
{
	return (uint32_t)(tag >> (32 - t->bits));
}

static uint32_t distance_at(const fd_table *t, uint32_t pos)
{
	return (pos - home_of(t, t->slots[pos].tag)) & slot_mask(t);
}

static uint32_t old_distance_at(const fd_table *t, uint32_t pos)
{
	uint32_t mask = (uint32_t)(((uint64_t)1 << t->old_bits) - 1);
	return (pos - (t->old[pos].tag >> (32 - t->old_bits))) & mask;
}

static bool key_equals(const record_hdr *h, const char *key, size_t len)
{
	return h->aux == len && (len == 0 || memcmp(h->key, key, len) == 0);
}

typedef struct probe {
	uint32_t pos;
	uint32_t dist;
	bool found;
} probe;

/* Find `key` in the old array of a growth under way: only at a position
 * not copied yet counts (a copied key's home is the new array). */
static bool probe_old(const fd_table *t, uint32_t tag, const char *key, size_t len,
                      uint32_t *pos_out)
{
	uint32_t mask = (uint32_t)(((uint64_t)1 << t->old_bits) - 1);
	uint32_t pos = tag >> (32 - t->old_bits), dist = 0;
	for (;;) {
		const table_slot *s = &t->old[pos];
		if (s->ref == 0 || old_distance_at(t, pos) < dist)
			return false;
		if (s->tag == tag && s->ref != TOMBSTONE &&
		    key_equals(hdr_at(t, s->ref - 1), key, len)) {
			*pos_out = pos;
			return pos >= t->moved;
		}
		pos = (pos + 1) & mask;
		dist++;
	}
}

/* Find `key`; on a miss, pos/dist say where Robin Hood insertion starts. */
static probe probe_key(const fd_table *t, uint32_t tag, const char *key, size_t len)
{
	uint32_t mask = slot_mask(t);
	probe p = { .pos = home_of(t, tag), .dist = 0, .found = false };
	for (;;) {
		const table_slot *s = &t->slots[p.pos];
		if (s->ref == 0 || distance_at(t, p.pos) < p.dist)
			return p;
		if (s->tag == tag && key_equals(hdr_at(t, s->ref - 1), key, len)) {
			p.found = true;
			return p;
		}
		p.pos = (p.pos + 1) & mask;
		p.dist++;
	}
}

/* Robin Hood insert of `s` starting at pos, dist (from a probe or home, 0). */
static void slot_insert(table_slot *slots, uint32_t bits, uint32_t pos, uint32_t dist,
                        table_slot s)
{
	uint32_t mask = (uint32_t)(((uint64_t)1 << bits) - 1);
	for (;;) {
		table_slot *cur = &slots[pos];
		if (cur->ref == 0) {
			*cur = s;
			return;
		}
		uint32_t cur_dist = (pos - (cur->tag >> (32 - bits))) & mask;
		if (cur_dist < dist) {
			table_slot evicted = *cur;
			*cur = s;
			s = evicted;
			dist = cur_dist;
		}
		pos = (pos + 1) & mask;
		dist++;
	}
}

/* Copy up to `n` positions of the old array into the new one; the old
 * array goes once every position is copied. */
static void grow_step(fd_table *t, uint32_t n)
{
	uint64_t size = (uint64_t)1 << t->old_bits;
	for (; n > 0 && t->old != NULL; n--) {
		if (t->moved == size) {
			slots_free(t->old, t->old_bits);
			t->old = NULL;
			return;
		}
		table_slot s = t->old[t->moved++];
		if (s.ref != 0 && s.ref != TOMBSTONE)
			slot_insert(t->slots, t->bits, home_of(t, s.tag), 0, s);
	}
}

/* Backward-shift deletion of the slot at pos. */
static void slot_delete(fd_table *t, uint32_t pos)
{
	uint32_t mask = slot_mask(t);
	for (;;) {
		uint32_t next = (pos + 1) & mask;
		if (t->slots[next].ref == 0 || distance_at(t, next) == 0) {
			t->slots[pos] = (table_slot){ 0, 0 };
			return;
		}
		t->slots[pos] = t->slots[next];
		pos = next;
	}
}

static bool over_load(size_t count, uint32_t bits)
{
	return (uint64_t)count * 4 > ((uint64_t)1 << bits) * 3;
}

/* ---- API ----------------------------------------------------------------- */

fd_table *fd_table_new(size_t record_size, size_t expected)
{
	return fd_table_new_seeded(record_size, expected, 0);
}

fd_table *fd_table_new_seeded(size_t record_size, size_t expected, uint64_t seed)
{
	if (record_size > FD_TABLE_RECORD_MAX)
		return NULL;
	fd_table *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->seed = seed ? seed : random_seed(t);
	t->record_size = record_size;
	t->stride = sizeof(record_hdr) +
	            (record_size + FD_TABLE_RECORD_ALIGN - 1) / FD_TABLE_RECORD_ALIGN *
	                    FD_TABLE_RECORD_ALIGN;
	t->keys.next_block = ARENA_FIRST_BLOCK;
	t->hot = t->stride < 1024 ? t->stride : 1024;
	if (expected > UINT32_MAX)
		expected = UINT32_MAX;
	uint32_t bits = MIN_BITS;
	while (bits < MAX_BITS && over_load(expected, bits))
		bits++;
	t->slots = slots_alloc(t, ((size_t)1 << bits) * sizeof(table_slot));
	t->bits = bits;
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void fd_table_free(fd_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->n_chunks; i++)
		big_free(t->chunks[i], chunk_bytes(t));
	free(t->chunks);
	free(t->chunk_live);
	arena_destroy(&t->keys);
	slots_free(t->slots, t->bits);
	if (t->old)
		slots_free(t->old, t->old_bits);
	free(t);
}

void fd_table_prefetch(const fd_table *t, const char *key, size_t len)
{
	uint32_t tag = (uint32_t)(place_hash(t, key, len) >> 32);
	__builtin_prefetch(&t->slots[home_of(t, tag)]);
}

void fd_table_set_hot_bytes(fd_table *t, size_t bytes)
{
	size_t n = sizeof(record_hdr) + bytes;
	t->hot = n < t->stride ? n : t->stride;
	if (t->hot > 1024)
		t->hot = 1024;
}

void fd_table_prefetch_record(const fd_table *t, const char *key, size_t len)
{
	uint32_t tag = (uint32_t)(place_hash(t, key, len) >> 32);
	uint32_t mask = slot_mask(t);
	uint32_t pos = home_of(t, tag);
	for (int i = 0; i < 4; i++, pos = (pos + 1) & mask) {
		const table_slot *s = &t->slots[pos];
		if (s->ref == 0)
			return;
		if (s->tag == tag) {
			const char *h = (const char *)hdr_at(t, s->ref - 1);
			size_t n = t->hot;
			for (size_t off = 0; off < n; off += 64)
				__builtin_prefetch(h + off);
			return;
		}
	}
}

void *fd_table_get(const fd_table *t, const char *key, size_t len)
{
	if (len > FD_TABLE_KEY_MAX)
		return NULL;
	uint32_t tag = (uint32_t)(place_hash(t, key, len) >> 32);
	probe p = probe_key(t, tag, key, len);
	if (p.found)
		return hdr_record(hdr_at(t, t->slots[p.pos].ref - 1));
	uint32_t pos;
	if (t->old && probe_old(t, tag, key, len, &pos))
		return hdr_record(hdr_at(t, t->old[pos].ref - 1));
	return NULL;
}

/* Start a growth to 2^bits slots: the current array becomes the old one,
 * copied a few positions per insert and removal (GROW_STEP) and by
 * fd_table_step; a growth still under way is finished first. */
static bool grow_start(fd_table *t, uint32_t bits)
{
	if (t->old)
		grow_step(t, UINT32_MAX);
	table_slot *slots = slots_alloc(t, ((size_t)1 << bits) * sizeof(table_slot));
	if (slots == NULL)
		return false;
	t->old = t->slots;
	t->old_bits = t->bits;
	t->moved = 0;
	t->slots = slots;
	t->bits = bits;
	return true;
}

void *fd_table_put(fd_table *t, const char *key, size_t len, bool *created)
{
	if (created != NULL)
		*created = false;
	if (len > FD_TABLE_KEY_MAX)
		return NULL;
	uint32_t tag = (uint32_t)(place_hash(t, key, len) >> 32);
	probe p = probe_key(t, tag, key, len);
	if (p.found)
		return hdr_record(hdr_at(t, t->slots[p.pos].ref - 1));
	uint32_t old_pos;
	if (t->old && probe_old(t, tag, key, len, &old_pos))
		return hdr_record(hdr_at(t, t->old[old_pos].ref - 1));

	if (over_load(t->count + 1, t->bits)) {
		if (t->bits == MAX_BITS || !grow_start(t, t->bits + 1))
			return NULL;
		p.pos = home_of(t, tag);
		p.dist = 0;
	}
	uint32_t index = record_take(t);
	if (index == UINT32_MAX)
		return NULL;
	char *copy = len < KEY_INLINE ? hdr_at(t, index)->inl : arena_alloc(&t->keys, len);
	if (copy == NULL) {
		record_release(t, index);
		return NULL;
	}
	if (len > 0)
		memcpy(copy, key, len);
	copy[len] = '\0';

	record_hdr *h = hdr_at(t, index);
	h->key = copy;
	h->index = index;
	h->aux = (uint32_t)len;
	void *record = hdr_record(h);
	memset(record, 0, t->record_size);

	slot_insert(t->slots, t->bits, p.pos, p.dist, (table_slot){ tag, index + 1 });
	t->count++;
	if (t->old)
		grow_step(t, GROW_STEP);
	if (created != NULL)
		*created = true;
	return record;
}

static void release(fd_table *t, uint32_t index)
{
	record_hdr *h = hdr_at(t, index);
	arena_release(&t->keys, h->key, h->aux);
	record_release(t, index);
	t->count--;
}

/* Remove the key in slot `pos` of the new array, or (in_old) of the old one. */
static void remove_at(fd_table *t, uint32_t pos, bool in_old)
{
	if (in_old) {
		uint32_t index = t->old[pos].ref - 1;
		t->old[pos].ref = TOMBSTONE;
		release(t, index);
	} else {
		uint32_t index = t->slots[pos].ref - 1;
		slot_delete(t, pos);
		release(t, index);
	}
	if (t->old)
		grow_step(t, GROW_STEP);
}

bool fd_table_remove(fd_table *t, const char *key, size_t len)
{
	if (len > FD_TABLE_KEY_MAX)
		return false;
	uint32_t tag = (uint32_t)(place_hash(t, key, len) >> 32);
	probe p = probe_key(t, tag, key, len);
	if (p.found) {
		remove_at(t, p.pos, false);
		return true;
	}
	uint32_t pos;
	if (t->old && probe_old(t, tag, key, len, &pos)) {
		remove_at(t, pos, true);
		return true;
	}
	return false;
}

void fd_table_remove_record(fd_table *t, void *record)
{
	const record_hdr *h = record_hdr_of(record);
	uint32_t ref = h->index + 1;
	uint32_t tag = (uint32_t)(place_hash(t, h->key, h->aux) >> 32);
	/* in the new array, in the run from the key's home to an empty slot */
	uint32_t mask = slot_mask(t);
	uint32_t pos = home_of(t, tag);
	for (; t->slots[pos].ref != 0; pos = (pos + 1) & mask)
		if (t->slots[pos].ref == ref) {
			remove_at(t, pos, false);
			return;
		}
	/* else not copied yet: in the old one */
	mask = (uint32_t)(((uint64_t)1 << t->old_bits) - 1);
	for (pos = tag >> (32 - t->old_bits); t->old[pos].ref != ref; pos = (pos + 1) & mask)
		;
	remove_at(t, pos, true);
}

void fd_table_step(fd_table *t, uint32_t n)
{
	if (t->old)
		grow_step(t, n);
}

uint32_t fd_table_index(const fd_table *t, const void *record)
{
	return record_hdr_of(record)->index;
}

void *fd_table_at(const fd_table *t, uint32_t index)
{
	if (index >= t->n_records || t->chunks[index >> CHUNK_SHIFT] == NULL)
		return NULL;
	record_hdr *h = hdr_at(t, index);
	return h->key != NULL ? hdr_record(h) : NULL;
}

const char *fd_table_key(const fd_table *t, const void *record, size_t *len)
{
	const record_hdr *h = record_hdr_of(record);
	if (len != NULL)
		*len = h->aux;
	return h->key;
}

size_t fd_table_count(const fd_table *t)
{
	return t->count;
}

void *fd_table_next(const fd_table *t, uint32_t *cursor)
{
	for (uint32_t i = *cursor; i < t->n_records; i++) {
		if (t->chunks[i >> CHUNK_SHIFT] == NULL) {
			i |= CHUNK_MASK; /* a chunk given back by a draining table */
			continue;
		}
		record_hdr *h = hdr_at(t, i);
		if (h->key != NULL) {
			*cursor = i + 1;
			return hdr_record(h);
		}
	}
	*cursor = t->n_records;
	return NULL;
}

uint32_t fd_table_indices(const fd_table *t)
{
	return t->n_records;
}

uint32_t fd_table_longest_probe(const fd_table *t)
{
	uint32_t longest = 0;
	for (uint32_t pos = 0; pos < (UINT32_C(1) << t->bits) && t->bits < 32; pos++)
		if (t->slots[pos].ref != 0 && distance_at(t, pos) > longest)
			longest = distance_at(t, pos);
	/* and the keys a growth has not copied yet */
	for (uint64_t pos = t->moved; t->old && pos < (UINT64_C(1) << t->old_bits); pos++)
		if (t->old[pos].ref != 0 && t->old[pos].ref != TOMBSTONE &&
		    old_distance_at(t, (uint32_t)pos) > longest)
			longest = old_distance_at(t, (uint32_t)pos);
	return longest;
}

size_t fd_table_memory(const fd_table *t)
{
	size_t chunks = 0;
	for (uint32_t i = 0; i < t->n_chunks; i++)
		chunks += t->chunks[i] != NULL;
	size_t slots = ((size_t)1 << t->bits) + (t->old ? (size_t)1 << t->old_bits : 0);
	return sizeof *t + slots * sizeof(table_slot) +
	       (size_t)t->chunks_cap * (sizeof *t->chunks + sizeof *t->chunk_live) +
	       chunks * FD_TABLE_CHUNK_RECORDS * t->stride +
	       (size_t)t->keys.blocks_cap * sizeof *t->keys.blocks + t->keys.bytes;
}

void fd_table_set_huge_pages(fd_table *t, bool on)
{
	t->huge = on;
}

void fd_table_drain(fd_table *t)
{
	t->draining = true;
	t->free_head = 0;
	for (uint32_t c = 0; c < t->n_chunks; c++)
		if (t->chunk_live[c] == 0 && t->chunks[c] != NULL) {
			big_free(t->chunks[c], chunk_bytes(t));
			t->chunks[c] = NULL;
		}
}
