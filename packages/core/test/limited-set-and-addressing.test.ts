import { LimitedSet } from '../src/runtime/limited-set';
import { clock } from '../src/runtime/lamport-clock';
import { isAddressedTo } from '../src/transport/control-addressing';
import type { ControlCommand } from '../src/transport/control';
import { signalNumber, TerminatedError } from '../src/worker/run/termination';
import { TaskRevokedError } from '@queue/core';

describe('LimitedSet', () => {
  const T0 = 1_800_000_000_000;

  it('is bounded by maxlen: the oldest ids make room', () => {
    const set = new LimitedSet(3, 60_000);
    for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) set.add(id, T0 + i);
    expect(set.size).toBe(3);
    expect(set.ids()).toEqual(['c', 'd', 'e']);
    expect(set.has('a')).toBe(false);
    expect(set.has('e')).toBe(true);
  });

  it('makes room only when an add reaches maxlen; membership ignores age', () => {
    const set = new LimitedSet(3, 1_000);
    set.add('ancient', T0 - 10 * 86_400_000);
    set.add('recent', T0);
    expect(set.has('ancient')).toBe(true); // expired, still a member
    expect(set.size).toBe(2);
  });

  it('expired entries go first (all of them), then the oldest', () => {
    const set = new LimitedSet(3, 1_000);
    set.add('old1', T0);
    set.add('old2', T0 + 1);
    set.add('fresh', T0 + 2_000);
    set.add('new', T0 + 2_001); // over maxlen: both expired entries go, though one would be enough
    expect(set.ids()).toEqual(['fresh', 'new']);

    const full = new LimitedSet(2, 1_000);
    full.add('a', T0);
    full.add('b', T0 + 10);
    full.add('c', T0 + 20); // nothing expired: the oldest goes
    expect(full.ids()).toEqual(['b', 'c']);
  });

  it('re-adding an id moves it to the newest position (and refreshes its time)', () => {
    const set = new LimitedSet(3, 60_000);
    set.add('a', T0);
    set.add('b', T0 + 1);
    set.add('c', T0 + 2);
    set.add('a', T0 + 3);
    set.add('d', T0 + 4);
    expect(set.ids()).toEqual(['c', 'a', 'd']);
    expect(set.entries()).toEqual([
      ['c', T0 + 2],
      ['a', T0 + 3],
      ['d', T0 + 4],
    ]);
  });

  it('defaults the time to now', () => {
    const set = new LimitedSet(10, 60_000);
    const before = Date.now();
    set.add('x');
    const [[, at]] = set.entries() as [[string, number]];
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it("an App's revocations follow workerRevokesMax", async () => {
    const { App } = await import('@queue/core');
    const app = new App({ name: 'limited-app', setAsCurrent: false, workerRevokesMax: 2 });
    try {
      await app.revoke(['r1', 'r2', 'r3']);
      expect(app.isRevoked('r1')).toBe(false);
      expect(app.isRevoked('r2')).toBe(true);
      expect(app.isRevoked('r3')).toBe(true);
    } finally {
      await app.close({ timeoutMs: 500 });
    }
  });
});

describe('isAddressedTo (kombu rules)', () => {
  const command = (fields: Partial<ControlCommand>): ControlCommand => ({
    method: 'ping',
    arguments: {},
    destination: null,
    ...fields,
  });

  it('a non-empty destination names the nodes (pattern then ignored)', () => {
    const to = command({ destination: ['w1@a', 'w2@b'], pattern: 'zz*', matcher: 'glob' });
    expect(isAddressedTo(to, 'w1@a')).toBe(true);
    expect(isAddressedTo(to, 'w2@b')).toBe(true);
    expect(isAddressedTo(to, 'w3@c')).toBe(false);
    expect(isAddressedTo(command({ destination: ['w1@a'] }), 'w1@a.local')).toBe(false); // exact names
  });

  it('null or empty destination without pattern → every node', () => {
    expect(isAddressedTo(command({ destination: null }), 'anything@host')).toBe(true);
    expect(isAddressedTo(command({ destination: [] }), 'anything@host')).toBe(true);
    // A pattern without a matcher (or a matcher without a pattern) addresses everyone, as kombu.
    expect(isAddressedTo(command({ pattern: 'zz*' }), 'w1@a')).toBe(true);
    expect(isAddressedTo(command({ matcher: 'glob' }), 'w1@a')).toBe(true);
  });

  it('glob: fnmatch with *, ?, [seq] and [!seq], matching the whole name', () => {
    const glob = (pattern: string, hostname: string) =>
      isAddressedTo(command({ pattern, matcher: 'glob' }), hostname);
    expect(glob('w1@*', 'w1@host')).toBe(true);
    expect(glob('w1@*', 'w2@host')).toBe(false);
    expect(glob('w?@host', 'w7@host')).toBe(true);
    expect(glob('w?@host', 'w10@host')).toBe(false);
    expect(glob('w[12]@*', 'w2@x')).toBe(true);
    expect(glob('w[12]@*', 'w3@x')).toBe(false);
    expect(glob('w[!1]@*', 'w2@x')).toBe(true);
    expect(glob('w[!1]@*', 'w1@x')).toBe(false);
    expect(glob('w1@host', 'w1@host.domain')).toBe(false); // anchored at both ends
    expect(glob('*.domain', 'w1@host.domain')).toBe(true);
    expect(glob('w1@host.x', 'w1@hostax')).toBe(false); // '.' is literal
    expect(glob('w1+@h', 'w1+@h')).toBe(true); // regex characters are literal
    expect(glob('w[1@h', 'w[1@h')).toBe(true); // an unclosed '[' is literal
  });

  it('pcre: re.match, anchored at the start only', () => {
    const pcre = (pattern: string, hostname: string) =>
      isAddressedTo(command({ pattern, matcher: 'pcre' }), hostname);
    expect(pcre('w\\d@', 'w1@host')).toBe(true); // prefix match
    expect(pcre('host', 'w1@host')).toBe(false); // not a search
    expect(pcre('.*@host$', 'w1@host')).toBe(true);
    expect(pcre('w1|w2', 'w2@x')).toBe(true); // alternation stays inside the start anchor
    expect(pcre('x|w2', 'aw2@x')).toBe(false);
  });

  it('an invalid regular expression addresses nobody', () => {
    expect(isAddressedTo(command({ pattern: 'w(1', matcher: 'pcre' }), 'w(1@x')).toBe(false);
    expect(isAddressedTo(command({ pattern: '[', matcher: 'pcre' }), 'w1@x')).toBe(false);
  });
});

describe('signalNumber', () => {
  it.each([
    ['SIGTERM', 15],
    ['TERM', 15],
    ['sigterm', 15],
    ['KILL', 9],
    ['SIGKILL', 9],
    ['SIGINT', 2],
    ['SIGHUP', 1],
    ['SIGUSR1', 10],
    [9, 9],
    ['9', 9],
    [null, 15],
    [undefined, 15],
    ['NOPE', undefined],
    ['SIGNOPE', undefined],
    [0, undefined],
    [-1, undefined],
    [1.5, undefined],
    [99, undefined],
    [true, undefined],
  ] as Array<[unknown, number | undefined]>)('%p → %p', (signal, expected) => {
    expect(signalNumber(signal)).toBe(expected);
  });

  it('TerminatedError is a TaskRevokedError carrying the signal number', () => {
    const error = new TerminatedError(9);
    expect(error).toBeInstanceOf(TaskRevokedError);
    expect(error.signum).toBe(9);
    expect(error.message).toBe('terminated');
  });
});

describe('Lamport clock', () => {
  it('forward increments; adjust moves past a seen clock', () => {
    const start = clock.forward();
    expect(clock.forward()).toBe(start + 1);
    expect(clock.adjust(start + 100)).toBe(start + 101);
    expect(clock.adjust(0)).toBe(start + 102); // never goes back
    expect(clock.adjust(Number.NaN)).toBe(start + 103);
    expect(clock.current).toBe(start + 103);
  });
});
