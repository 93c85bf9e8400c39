/*
 * The policy that KSAFE_POLICY and KSAFE_ENV name (else the system policy file, else the
 * built-in default: what ksafe_policy_from_env() reads), loaded once per process.
 *
 * ksafe_producer_new(conf, NULL, ...) is the README's own snippet: loading
 * the policy on every call made it cost 3 to 4 bare rd_kafka_new()s. The
 * cache keeps the last policy loaded, immutable, with the values of both
 * variables and the identity of every file of its "extends" chain as read
 * (device, inode, size, modification and change times in nanoseconds, and a
 * hash of the bytes). Before handing it out again each file is stat()ed:
 * any difference, or a changed variable, loads the policy again; a file
 * that can no longer be read fails as an uncached load does.
 *
 * A file rewritten within one tick of the filesystem's clock can keep its
 * size and times: while a file's modification or change time is that recent (less
 * than RACY_NS before the load), its content is read and hashed again on
 * every lookup, as git does for a racily clean index entry.
 *
 * Holders count references: a policy replaced while another thread still
 * uses it is freed by the last release.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ksafe_int.h"

/* More than any filesystem's timestamp granularity (FAT's is 2 s). */
#define RACY_NS 3000000000LL

struct ksafe_cached_s {
        ksafe_policy_t *policy;
        char *path;          /* KSAFE_POLICY as it was ("" for none) */
        char *env;           /* KSAFE_ENV as it was ("" for none) */
        size_t refs;         /* holders, plus one while it is the current entry */
        long long loaded_ns; /* CLOCK_REALTIME when it was loaded */
        bool racy;           /* a file was modified less than RACY_NS before the load */
        char *system_path;   /* ksafe_policy__system_path as it was */
        bool system;         /* KSAFE_POLICY unset: the system policy file was there */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static ksafe_cached_t *current;

static long long now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void cached_free(ksafe_cached_t *c)
{
        if (!c)
                return;
        ksafe_policy_destroy(c->policy);
        free(c->path);
        free(c->env);
        free(c->system_path);
        free(c);
}

/* Is any file of the policy modified (or its times set: utimensat()
 * changes ctime) too recently for its times to tell a later rewrite? */
static bool racy_at(const ksafe_policy_t *policy, long long when)
{
        for (size_t i = 0; i < policy->file_count; i++)
                if (policy->files[i].id.mtime_ns > when - RACY_NS ||
                    policy->files[i].id.ctime_ns > when - RACY_NS)
                        return true;
        return false;
}

/* Is the file as it was read? Its content is hashed again when its times
 * cannot tell (racy). */
static bool file_same(const ksafe_policy_file_t *f, bool racy)
{
        struct stat st;
        if (stat(f->path, &st) != 0)
                return false;
        const ksafe_file_id_t *id = &f->id;
        if ((unsigned long long)st.st_dev != id->dev || (unsigned long long)st.st_ino != id->ino ||
            (unsigned long long)st.st_size != id->size ||
            (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec != id->mtime_ns ||
            (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec != id->ctime_ns)
                return false;
        if (!racy)
                return true;
        char why[256];
        ksafe_file_id_t now;
        size_t len;
        char *text = ksafe_file__read_regular(f->path, &len, &now, why, sizeof(why));
        free(text);
        return text && now.hash == id->hash && now.size == id->size &&
               now.mtime_ns == id->mtime_ns && now.ctime_ns == id->ctime_ns;
}

/* The system policy path ("" for none). */
static const char *system_path(void)
{
        return ksafe_policy__system_path ? ksafe_policy__system_path : "";
}

/* Called with the lock held: may `c` be handed out for (path, env)? */
static bool still_good(ksafe_cached_t *c, const char *path, const char *env)
{
        if (strcmp(c->path, path) != 0 || strcmp(c->env, env) != 0)
                return false;
        /* The built-in default stands in for a system policy file only while there is none
         * (one that is there is a file of the policy, checked below). */
        if (strcmp(c->system_path, system_path()) != 0 ||
            (!*path && !c->system && ksafe_policy__system_present()))
                return false;
        for (size_t i = 0; i < c->policy->file_count; i++)
                if (!file_same(&c->policy->files[i], c->racy))
                        return false;
        /* Once the clock has moved on past every file's time, a rewrite
         * shows in the times: no need to read the content any more. */
        if (c->racy && !racy_at(c->policy, now_ns()))
                c->racy = false;
        return true;
}

/* The lock held: drop one reference. */
static void unref_locked(ksafe_cached_t *c)
{
        if (c && --c->refs == 0)
                cached_free(c);
}

ksafe_cached_t *ksafe_policy_cache__get(ksafe_error_t *err)
{
        ksafe_error__clear(err);
        const char *path = getenv("KSAFE_POLICY");
        const char *env = getenv("KSAFE_ENV");
        path = path ? path : "";
        env = env ? env : "";

        pthread_mutex_lock(&cache_lock);
        ksafe_cached_t *c = current;
        if (c && still_good(c, path, env)) {
                c->refs++;
                pthread_mutex_unlock(&cache_lock);
                return c;
        }
        pthread_mutex_unlock(&cache_lock);

        /* Loaded outside the lock: another thread's lookup does not wait
         * for it (two threads may both load; the later one is kept). */
        c = calloc(1, sizeof(*c));
        long long loaded = now_ns();
        /* What ksafe_policy_from_env() reads: KSAFE_POLICY, else the system policy file,
         * else the built-in default. */
        bool system = !*path && ksafe_policy__system_present();
        ksafe_policy_t *policy = !c      ? NULL
                                 : *path ? ksafe_policy_load(path, *env ? env : NULL, err)
                                         : ksafe_policy_load_system(*env ? env : NULL, err);
        if (c && policy) {
                c->system = system;
                c->policy = policy;
                c->path = strdup(path);
                c->env = strdup(env);
                c->system_path = strdup(system_path());
                c->loaded_ns = loaded;
                c->racy = racy_at(policy, loaded);
                c->refs = 2; /* the caller's and the cache's */
        }
        if (!c || !policy || !c->path || !c->env || !c->system_path) {
                if (c && !policy) {
                        free(c);
                        return NULL; /* err is the loader's */
                }
                cached_free(c);
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, *path ? path : "(KSAFE_POLICY)",
                                 "", 0, 0, "out of memory");
                return NULL;
        }
        pthread_mutex_lock(&cache_lock);
        ksafe_cached_t *old = current;
        current = c;
        unref_locked(old);
        pthread_mutex_unlock(&cache_lock);
        return c;
}

const ksafe_policy_t *ksafe_policy_cache__policy(const ksafe_cached_t *cached)
{
        return cached->policy;
}

void ksafe_policy_cache__release(ksafe_cached_t *cached)
{
        if (!cached)
                return;
        pthread_mutex_lock(&cache_lock);
        unref_locked(cached);
        pthread_mutex_unlock(&cache_lock);
}

/* Unloaded with the library (a plugin dlclose()d) or at exit: the current
 * entry goes; one still held is freed by its last release. */
__attribute__((destructor)) static void cache_free(void)
{
        pthread_mutex_lock(&cache_lock);
        ksafe_cached_t *c = current;
        current = NULL;
        unref_locked(c);
        pthread_mutex_unlock(&cache_lock);
}
