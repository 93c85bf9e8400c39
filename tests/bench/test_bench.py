"""tools/bench --quick prints the whole table: every row of issue 15's goals, the growth
rows, the facade rows and the instruction counts, each with a figure (or n/a with the reason for ajv-cli when npm
cannot install it), and the note on what the mock cluster cannot show. No time is judged.

Usage: test_bench.py TOOLS/BENCH BUILD-DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cli'))
from tap import run_tap  # noqa: E402

BENCH, BUILD = sys.argv[1], sys.argv[2]

# Each row of the table, as its "what" cell starts, and how many times it is there.
ROWS = [
    ('goal', r'`ksafe_producer_new\(conf, NULL, \.\.\.\)` vs bare'),
    ('goal', r'`ksafe_producer_new` with a policy loaded once vs bare'),
    ('goal', r'produce throughput, facade vs raw'),
    ('goal', r'ksafe-lint, [0-9,]+ small JSON configs, vs ajv-cli 5'),  # twice
    ('goal', r'ksafe-lint vs a minimal open/read/close loop'),
    ('goal', r'peak memory \(max RSS\)'),
    ('goal', r'one invocation on one small file vs a do-nothing program'),
    ('goal', r'[0-9,]+ lines of unknown keys \(did-you-mean\)'),
    ('growth', r'lint time per file, [0-9,]+ files'),  # 4
    ('growth', r'lint time per line, [0-9,]+ lines'),  # 3 in --quick
    ('instr', r'ksafe-lint on one small file vs the do-nothing program'),
    ('instr', r'ksafe-lint per file \([0-9,]+ files minus [0-9,]+'),
    ('instr', r'ksafe-lint per line of unknown keys'),
    ('instr', r'`ksafe_producer_new`, policy NULL, per create'),
    ('instr', r'`ksafe_producer_new`, policy loaded, per create'),
    ('instr', r'`ksafe_conf_enforce` alone, per call'),
    ('facade', r'bare `rd_kafka_new`'),
    ('facade', r'`ksafe_producer_new`, policy NULL'),
    ('facade', r'`ksafe_producer_new`, policy loaded'),
    ('facade', r'`ksafe_conf_enforce` alone'),
    ('facade', r'policy load, cold'),
    ('facade', r'policy lookup, cached'),
    ('facade', r'produce throughput, safe \(facade\) vs unsafe'),
    ('facade', r'delivery latency p50'),
    ('facade', r'delivery latency p99'),
]
COUNTS = {r'ksafe-lint, [0-9,]+ small JSON configs, vs ajv-cli 5': 2,
          r'lint time per file, [0-9,]+ files': 4,
          r'lint time per line, [0-9,]+ lines': 3}

FIGURE = re.compile(r'[0-9.]+ (s|ms|µs|MB|msg/s|k instr|M instr|instr)|n/a \(')

_out = {}


def output():
    if 'text' not in _out:
        proc = subprocess.run([sys.executable, BENCH, '--quick', '--no-build', '--build', BUILD],
                              capture_output=True, text=True, timeout=170)
        _out['text'], _out['status'], _out['err'] = proc.stdout, proc.returncode, proc.stderr
    return _out


class Checks:
    def __init__(self):
        self.failures = []


def test_runs(t):
    """tools/bench --quick exits 0 and prints a Markdown table"""
    o = output()
    if o['status'] != 0:
        t.failures.append(f'exit {o["status"]}: {o["err"][-2000:]}')
    if '| | what | ksafe | against | ratio | goal | |' not in o['text']:
        t.failures.append('no table header in:\n' + o['text'][-2000:])


def test_every_row(t):
    """every row is there, as many times as it should be, each with a figure"""
    rows = [line.split(' | ') for line in output()['text'].splitlines()
            if line.startswith('| goal') or line.startswith('| growth') or
            line.startswith('| facade') or line.startswith('| instr')]
    for section, what in ROWS:
        got = [r for r in rows if r[0] == f'| {section}' and re.match(what, r[1])]
        want = COUNTS.get(what, 1)
        if len(got) != want:
            t.failures.append(f'{section} row "{what}": {len(got)} times, want {want}')
        for r in got:
            if not FIGURE.search(r[2]):
                t.failures.append(f'row without a figure: {" | ".join(r)}')
    if len(rows) != sum(COUNTS.get(w, 1) for _, w in ROWS):
        t.failures.append(f'{len(rows)} rows, want {sum(COUNTS.get(w, 1) for _, w in ROWS)}')


def test_goal_rows_judged(t):
    """every goal row has its goal and a verdict (met / not met), unless ajv is missing"""
    for line in output()['text'].splitlines():
        if not line.startswith('| goal'):
            continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        if not cells[5]:
            t.failures.append(f'no goal: {line}')
        if cells[6] not in ('met', '**not met**') and 'n/a' not in cells[3]:
            t.failures.append(f'no verdict: {line}')


def test_machine_and_mock_note(t):
    """the header names the machine and librdkafka; the mock cluster's limits are said"""
    text = output()['text']
    if not re.search(r'\d+ CPUs \(.*\).*librdkafka \d', text):
        t.failures.append('no machine line')
    if 'no replication' not in text:
        t.failures.append('no note on what the mock cluster cannot show')


sys.exit(run_tap([test_runs, test_every_row, test_goal_rows_judged, test_machine_and_mock_note],
                 Checks))
