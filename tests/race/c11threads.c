/*
 * C11 threads through the POSIX calls that ThreadSanitizer and helgrind
 * intercept: LD_PRELOAD it under tests/race/run.sh.
 *
 * Debian's librdkafka 2.0.2 makes its threads with glibc's C11 thrd_create()
 * and locks with mtx_lock()/cnd_wait(). glibc implements those by calling
 * its internal __pthread_* functions directly, which neither the
 * sanitizer runtime of clang 14 / gcc 12 nor valgrind 3.19 intercepts: a
 * thread librdkafka starts is unknown to TSan (its first malloc crashes the
 * process) and librdkafka's locks order nothing. Each function here is what
 * glibc's own does (nptl/thrd_create.c, mtx_*.c, cnd_*.c, call_once.c), but
 * through the public pthread_* symbols, so that both tools see the threads
 * and every lock, and ksafe's interceptors that librdkafka calls from its
 * threads are judged with librdkafka's happens-before edges.
 *
 * A test helper only: never linked into ksafe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int result_of(int err)
{
        switch (err) {
        case 0: return thrd_success;
        case EBUSY: return thrd_busy;
        case ETIMEDOUT: return thrd_timedout;
        case ENOMEM: return thrd_nomem;
        default: return thrd_error;
        }
}

typedef struct start_s {
        thrd_start_t func;
        void *arg;
} start_t;

static void *trampoline(void *arg)
{
        start_t s = *(start_t *)arg;
        free(arg);
        return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
        start_t *s = malloc(sizeof(*s));
        if (!s)
                return thrd_nomem;
        s->func = func;
        s->arg = arg;
        pthread_t t;
        int err = pthread_create(&t, NULL, trampoline, s);
        if (err) {
                free(s);
                return result_of(err);
        }
        *thr = (thrd_t)t;
        return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
        void *v;
        int err = pthread_join((pthread_t)thr, &v);
        if (!err && res)
                *res = (int)(intptr_t)v;
        return result_of(err);
}

int thrd_detach(thrd_t thr)
{
        return result_of(pthread_detach((pthread_t)thr));
}

void thrd_exit(int res)
{
        pthread_exit((void *)(intptr_t)res);
}

int mtx_init(mtx_t *m, int type)
{
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, type & mtx_recursive ? PTHREAD_MUTEX_RECURSIVE
                                                              : PTHREAD_MUTEX_NORMAL);
        int err = pthread_mutex_init((pthread_mutex_t *)m, &attr);
        pthread_mutexattr_destroy(&attr);
        return result_of(err);
}

int mtx_lock(mtx_t *m)
{
        return result_of(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
        return result_of(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict when)
{
        return result_of(pthread_mutex_timedlock((pthread_mutex_t *)m, when));
}

int mtx_unlock(mtx_t *m)
{
        return result_of(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
        pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
        return result_of(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
        return result_of(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
        return result_of(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
        return result_of(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict when)
{
        return result_of(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, when));
}

void cnd_destroy(cnd_t *c)
{
        pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*func)(void))
{
        pthread_once((pthread_once_t *)flag, func);
}
