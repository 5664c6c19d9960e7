// Failed-authentication windows on a test clock: the limit blocks until the window ends, audits are capped, memory is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthFailureWindows } from '../../src/security/auth-failure-windows.ts';
import { parseTrustProxy, trustProxyProblem } from '../../src/config/trust-proxy.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('an address over the limit stays blocked until its window (from its first failure) ends; others are unaffected', () => {
  const time = clock();
  const windows = new AuthFailureWindows({ limit: () => 3, windowMs: 60_000, now: time.now });
  assert.equal(windows.recordFailure('10.0.0.1', true).blocked, false);
  time.advance(10_000);
  assert.equal(windows.recordFailure('10.0.0.1', true).blocked, false);
  assert.equal(windows.blockedForMs('10.0.0.1'), null, 'under the limit');
  const third = windows.recordFailure('10.0.0.1', true);
  assert.deepEqual(third, { auditFailure: true, blocked: true, failures: 3, windowEndsAt: 1_060_000 });
  assert.equal(windows.blockedForMs('10.0.0.1'), 50_000);
  assert.equal(windows.blockedForMs('10.0.0.2'), null);
  time.advance(49_999);
  assert.equal(windows.blockedForMs('10.0.0.1'), 1);
  time.advance(1);
  assert.equal(windows.blockedForMs('10.0.0.1'), null, 'the window passed');
  assert.equal(windows.recordFailure('10.0.0.1', true).failures, 1, 'a new window starts from zero');
});

test('failures without a key are audited but never count; audits stop after the first N; one block event per window', () => {
  const time = clock();
  const windows = new AuthFailureWindows({ limit: () => 4, auditedPerWindow: 2, now: time.now });
  const missing = Array.from({ length: 10 }, () => windows.recordFailure('a', false));
  assert.deepEqual(
    missing.map((v) => v.auditFailure),
    [true, true, false, false, false, false, false, false, false, false],
  );
  assert.ok(missing.every((v) => !v.blocked && v.failures === 0));
  assert.equal(windows.blockedForMs('a'), null, 'no key was guessed');
  const guesses = Array.from({ length: 6 }, () => windows.recordFailure('a', true));
  assert.deepEqual(
    guesses.map((v) => v.blocked),
    [false, false, false, true, false, false],
  );
  assert.ok(guesses.every((v) => !v.auditFailure));
});

test('the limit is read live; 0 never blocks; the tracked addresses are bounded', () => {
  const time = clock();
  let limit = 0;
  const windows = new AuthFailureWindows({ limit: () => limit, maxTrackedAddresses: 3, now: time.now });
  for (let i = 0; i < 50; i++) assert.equal(windows.recordFailure('x', true).blocked, false);
  assert.equal(windows.blockedForMs('x'), null);
  limit = 10;
  assert.ok((windows.blockedForMs('x') ?? 0) > 0, 'a lower limit applies at once');
  for (const address of ['y', 'z', 'w']) windows.recordFailure(address, true);
  assert.equal(windows.blockedForMs('x'), null, 'the oldest address was forgotten to make room');
});

test('trust proxy values: false, true, hop counts and address/CIDR lists; anything else is named', () => {
  assert.equal(parseTrustProxy('false'), false);
  assert.equal(parseTrustProxy('true'), true);
  assert.equal(parseTrustProxy(' 127.0.0.1 , 10.0.0.0/8,::1 '), '127.0.0.1,10.0.0.0/8,::1');
  const twoHops = parseTrustProxy('2');
  assert.equal(typeof twoHops, 'function');
  if (typeof twoHops === 'function')
    assert.deepEqual(
      [0, 1, 2].map((hop) => twoHops('1.2.3.4', hop)),
      [true, true, false],
    );
  for (const ok of ['false', 'true', '0', '3', '127.0.0.1', 'loopback, 192.168.0.0/16', 'fd00::/8', '::ffff:10.0.0.1']) {
    assert.equal(trustProxyProblem(ok), undefined, ok);
  }
  assert.match(trustProxyProblem('10.0.0.300') ?? '', /"10.0.0.300" is not an IP address or CIDR/);
  assert.match(trustProxyProblem('10.0.0.0/33') ?? '', /prefix length outside 0-32/);
  assert.match(trustProxyProblem('127.0.0.1,,::1') ?? '', /an empty entry/);
  assert.match(trustProxyProblem('yes') ?? '', /expected false, true, a hop count/);
});
