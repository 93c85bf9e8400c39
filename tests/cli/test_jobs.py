#!/usr/bin/env python3
"""ksafe-lint -j N says what -j 1 says, byte for byte (stdout, stderr, exit status), where
the inputs are not independent of each other: two names of one stream.

Standard input and /dev/stdin (or /dev/fd/0, /proc/self/fd/0) of a pipe are one pipe under
two names. -j 1 reads the first of them to its end and the second finds nothing; judged on
two threads at once, each would read part of the bytes, and the findings would depend on
how the reads fell. The writer here sends its config slowly, in small pieces, so that two
readers at once would surely share it.

Usage: test_jobs.py KSAFE_LINT
"""
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from tap import run_tap  # noqa: E402

LINT = sys.argv[1]
WORK = tempfile.mkdtemp(prefix='ksafe-jobs-')

# Nine small files between the two names: the second name falls in another worker's share.
FILLERS = []
for i in range(9):
    path = os.path.join(WORK, f'f{i}.json')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('{"acks": "all", "enable.idempotence": true, "client.id": "f%d"}\n' % i)
    FILLERS.append(path)

# 4,000 lines, one finding on a line near the end: where the bytes went shows in the output.
STREAM = ''.join(f'client.id=c{i}\n' for i in range(4000)) + 'acks=1\nlinger.ms=5\n'


class Checks:
    def __init__(self):
        self.failures = []
        self.ran = []

    def fail(self, what):
        self.failures.append(what)


def lint(t, args, jobs):
    """Run ksafe-lint -j JOBS ARGS with STREAM written slowly to its standard input."""
    cmd = [LINT, '-j', str(jobs), '-p', 'builtin:default', '-f', 'text'] + args
    t.ran.append(' '.join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    data = STREAM.encode()
    piece = len(data) // 40 + 1

    def write():
        try:
            for at in range(0, len(data), piece):
                p.stdin.write(data[at:at + piece])
                p.stdin.flush()
                time.sleep(0.01)
            p.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write)
    writer.start()
    out = p.stdout.read()
    err = p.stderr.read()
    p.wait(timeout=60)
    writer.join()
    return p.returncode, out, err


# Two names of standard input's pipe, with the fillers between them.
NAMES = [
    ('-', '/dev/stdin'),
    ('-', '/dev/fd/0'),
    ('/dev/stdin', '/proc/self/fd/0'),
    ('/dev/fd/0', '-'),
]


def make_test(first, second):
    def test(t):
        args = [first] + FILLERS + [second]
        want = lint(t, args, 1)
        if want[0] != 1 or b'acks is 1' not in want[1]:
            t.fail(f'-j 1: exit {want[0]}, {want[1][-300:]!r} {want[2][-300:]!r}')
            return
        for jobs in (2, 4):
            got = lint(t, args, jobs)
            if got != want:
                t.fail(f'-j {jobs} differs from -j 1: exit {got[0]} vs {want[0]}\n'
                       f'-j {jobs} stdout ends {got[1][-400:]!r}\n'
                       f'-j 1 stdout ends {want[1][-400:]!r}\n'
                       f'-j {jobs} stderr {got[2][-300:]!r}')
    test.__doc__ = f'{first} ... {second} (one pipe): -j 2 and -j 4 say what -j 1 says'
    return test


def main():
    tests = [make_test(a, b) for a, b in NAMES]
    try:
        return run_tap(tests, Checks, commands=lambda t: t.ran[-3:])
    finally:
        for path in FILLERS:
            os.unlink(path)
        os.rmdir(WORK)


if __name__ == '__main__':
    sys.exit(main())
