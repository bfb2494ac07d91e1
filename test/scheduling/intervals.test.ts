import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Interval, normalize, subtract } from '../../scheduling/intervals.ts';

const iv = (start: number, end: number): Interval => ({ start, end });

describe('normalize', () => {
  it.each([
    ['empty', [], []],
    ['drops empty and reversed intervals', [iv(5, 5), iv(7, 3)], []],
    ['sorts', [iv(20, 30), iv(0, 10)], [iv(0, 10), iv(20, 30)]],
    ['merges overlapping', [iv(0, 10), iv(5, 15)], [iv(0, 15)]],
    ['merges touching (half-open)', [iv(0, 10), iv(10, 20)], [iv(0, 20)]],
    ['swallows contained', [iv(0, 100), iv(10, 20), iv(30, 40)], [iv(0, 100)]],
    [
      'unsorted chains',
      [iv(40, 50), iv(0, 10), iv(45, 60), iv(9, 12), iv(70, 71)],
      [iv(0, 12), iv(40, 60), iv(70, 71)],
    ],
  ])('%s', (_name, input, expected) => {
    const copy = structuredClone(input);
    expect(normalize(input)).toEqual(expected);
    expect(input).toEqual(copy);
  });
});

describe('subtract', () => {
  it.each([
    ['nothing busy', [iv(0, 10)], [], [iv(0, 10)]],
    ['busy elsewhere', [iv(0, 10)], [iv(20, 30)], [iv(0, 10)]],
    ['busy in the middle', [iv(0, 10)], [iv(3, 5)], [iv(0, 3), iv(5, 10)]],
    ['busy covers all', [iv(0, 10)], [iv(-5, 15)], []],
    ['busy overlaps the start', [iv(0, 10)], [iv(-5, 2)], [iv(2, 10)]],
    ['busy overlaps the end', [iv(0, 10)], [iv(8, 12)], [iv(0, 8)]],
    ['touching busy leaves everything', [iv(0, 10)], [iv(-5, 0), iv(10, 12)], [iv(0, 10)]],
    ['one busy spans two free intervals', [iv(0, 10), iv(20, 30)], [iv(5, 25)], [iv(0, 5), iv(25, 30)]],
    [
      'unsorted overlapping busy',
      [iv(20, 40), iv(0, 10)],
      [iv(25, 27), iv(2, 4), iv(3, 6), iv(26, 35)],
      [iv(0, 2), iv(6, 10), iv(20, 25), iv(35, 40)],
    ],
  ])('%s', (_name, from, busy, expected) => {
    expect(subtract(from, busy)).toEqual(expected);
  });
});

describe('normalize and subtract, against a unit-by-unit model', () => {
  const SIZE = 60;
  const interval = fc
    .tuple(fc.integer({ min: 0, max: SIZE }), fc.integer({ min: -5, max: 20 }))
    .map(([start, length]) => iv(start, start + length));
  const cover = (list: Interval[]) => {
    const units = new Array<boolean>(SIZE + 25).fill(false);
    for (const { start, end } of list) for (let u = start; u < end; u++) units[u] = true;
    return units;
  };
  /** The canonical form of a set of units: maximal runs. */
  const runs = (units: boolean[]) => {
    const result: Interval[] = [];
    units.forEach((on, u) => {
      if (!on) return;
      const last = result[result.length - 1];
      if (last && last.end === u) last.end = u + 1;
      else result.push(iv(u, u + 1));
    });
    return result;
  };

  it('normalize is the same set, in canonical form', () => {
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 12 }), (list) => {
        expect(normalize(list)).toEqual(runs(cover(list)));
      }),
    );
  });

  it('subtract removes exactly the busy units', () => {
    fc.assert(
      fc.property(
        fc.array(interval, { maxLength: 8 }),
        fc.array(interval, { maxLength: 8 }),
        (from, busy) => {
          const busyUnits = cover(busy);
          expect(subtract(from, busy)).toEqual(runs(cover(from).map((on, u) => on && !busyUnits[u])));
        },
      ),
    );
  });
});
