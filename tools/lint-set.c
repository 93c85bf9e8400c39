/*
 * A set of strings, each with a count: what the output formats remember
 * across inputs (names already listed, results already made, how many
 * results have a fingerprint so far). The keys live in one growing arena
 * and the table holds offsets: a few bytes per key beyond the key itself,
 * and no allocation per key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lint-output.h"

struct lint_set_slot_s {
        uint64_t hash;
        size_t offset; /* of the key in the arena, + 1; 0: empty */
        size_t len;
        size_t count;
};

static uint64_t hash_bytes(const char *key, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
        return h ^ (h >> 29);
}

/* The slot of `key`: its own, or the empty one where it would go. */
static lint_set_slot_t *find_slot(const lint_set_t *s, const char *key, size_t len, uint64_t h)
{
        size_t mask = s->slots - 1;
        for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
                lint_set_slot_t *slot = &s->table[i];
                if (!slot->offset || (slot->hash == h && slot->len == len &&
                                      memcmp(s->arena + slot->offset - 1, key, len) == 0))
                        return slot;
        }
}

static bool grow_table(lint_set_t *s)
{
        size_t slots = s->slots ? 2 * s->slots : 64;
        lint_set_slot_t *table = calloc(slots, sizeof(*table));
        if (!table)
                return false;
        lint_set_t bigger = *s;
        bigger.table = table;
        bigger.slots = slots;
        for (size_t i = 0; i < s->slots; i++)
                if (s->table[i].offset)
                        *find_slot(&bigger, s->arena + s->table[i].offset - 1, s->table[i].len,
                                   s->table[i].hash) = s->table[i];
        free(s->table);
        *s = bigger;
        return true;
}

size_t *lint_set_count(lint_set_t *s, const char *key, size_t len)
{
        if (!s->slots && !grow_table(s))
                return NULL;
        uint64_t h = hash_bytes(key, len);
        lint_set_slot_t *slot = find_slot(s, key, len, h);
        if (slot->offset)
                return &slot->count;
        if ((s->used + 1) * 2 > s->slots) { /* never more than half full */
                if (!grow_table(s))
                        return NULL;
                slot = find_slot(s, key, len, h);
        }
        if (!s->arena || s->arena_len + len > s->arena_cap) {
                size_t cap = s->arena_cap ? 2 * s->arena_cap : 4096;
                while (cap < s->arena_len + len)
                        cap *= 2;
                char *arena = realloc(s->arena, cap);
                if (!arena)
                        return NULL;
                s->arena = arena;
                s->arena_cap = cap;
        }
        memcpy(s->arena + s->arena_len, key, len);
        *slot = (lint_set_slot_t){h, s->arena_len + 1, len, 0};
        s->arena_len += len;
        s->used++;
        return &slot->count;
}

int lint_set_add(lint_set_t *s, const char *key)
{
        size_t *count = lint_set_count(s, key, strlen(key));
        if (!count)
                return -1;
        return (*count)++ == 0;
}

void lint_set_free(lint_set_t *s)
{
        free(s->table);
        free(s->arena);
        *s = (lint_set_t){0};
}
