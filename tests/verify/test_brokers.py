#!/usr/bin/env python3
"""ksafe-verify on a real cluster: KSAFE_TEST_BROKERS names it (exit 77, a skip, without it).

The topic is $KSAFE_TEST_TOPIC, else ksafe-verify; it must exist. No fault is injected there:
the run shows that the workload and the proof work against real brokers, where a resend with
its first sequence is dropped, so `duplicated` and `mock_duplicates` must both be 0.

Usage: test_brokers.py KSAFE_VERIFY
"""
import json
import os
import subprocess
import sys

brokers = os.environ.get('KSAFE_TEST_BROKERS', '')
if not brokers:
    print('KSAFE_TEST_BROKERS is not set: no real cluster to verify against', file=sys.stderr)
    sys.exit(77)
topic = os.environ.get('KSAFE_TEST_TOPIC', 'ksafe-verify')
p = subprocess.run([sys.argv[1], '-q', '-f', 'json', '-b', brokers, '-t', topic, '-n', '2000'],
                   stdout=subprocess.PIPE, text=True, timeout=600, check=False)
doc = json.loads(p.stdout)
failures = []
if p.returncode != 0:
    failures.append(f'exit {p.returncode}')
if doc['cluster'] != 'brokers':
    failures.append(f"cluster {doc['cluster']}")
for prof in doc['profiles']:
    if prof['name'] != 'unsafe' and not prof['guarantee_met']:
        failures.append(f"{prof['name']}: {prof['verdict']}")
    if prof['name'] != 'unsafe' and (prof['duplicated'] or prof['mock_duplicates']):
        failures.append(f"{prof['name']}: duplicates on a real cluster")
    if prof['sent'] != 2000:
        failures.append(f"{prof['name']}: sent {prof['sent']}")
for f in failures:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
