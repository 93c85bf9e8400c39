#!/usr/bin/env python3
"""doc/internals.md's "where is X" tables against the tree (TAP).

1. Every file the page names in backticks (lib/..., tools/..., conf/..., tests/...) exists.
2. In the table of engine findings, each id appears as a string literal in the file named
   as reporting it, and the file named as detecting it exists.
3. Every engine finding id that lib/ reports (a "ksafe-..." rule_id literal) is in that
   table: a new finding cannot go undocumented.

Usage: internals.py SOURCE_ROOT
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
page = open(os.path.join(root, 'doc', 'internals.md'), encoding='utf-8').read()
results = []


def check(ok, name, diag=''):
    results.append((ok, name, diag))


paths = sorted(set(re.findall(r'`((?:lib|tools|conf|tests|include)/[^`\s*<>]+)`', page)))
missing = [p for p in paths if not os.path.exists(os.path.join(root, p))]
check(paths and not missing, 'every file the internals page names exists (%d)' % len(paths),
      'missing: ' + ', '.join(missing))

rows = re.findall(r'^\| `(ksafe-[a-z-]+)` \| `([^`]+)` \| `([^`]+)` \|$', page, re.M)
check(len(rows) > 0, 'the page has a table of engine findings')
listed = set()
for fid, detected, reported in rows:
    listed.add(fid)
    path = os.path.join(root, reported)
    text = open(path, encoding='utf-8').read() if os.path.exists(path) else ''
    check('"%s"' % fid in text, '%s is reported in %s' % (fid, reported),
          'no "%s" literal in %s' % (fid, reported))
    check(os.path.exists(os.path.join(root, detected)), '%s is detected in %s' % (fid, detected),
          '%s does not exist' % detected)

found = set()
for name in sorted(os.listdir(os.path.join(root, 'lib'))):
    if name.endswith(('.c', '.h')):
        src = open(os.path.join(root, 'lib', name), encoding='utf-8').read()
        for m in re.finditer(r'(?:rule_id = |define \w+ )"(ksafe-[a-z-]+)"', src):
            found.add(m.group(1))
undocumented = sorted(found - listed)
check(found and not undocumented,
      'every engine finding lib/ reports is in the table (%d)' % len(found),
      'not in doc/internals.md: ' + ', '.join(undocumented))

print('1..%d' % len(results))
for i, (ok, name, diag) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    if not ok and diag:
        print('# ' + diag)
sys.exit(0 if all(r[0] for r in results) else 1)
