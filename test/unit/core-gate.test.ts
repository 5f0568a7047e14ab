// The kernel gate of the effect-order contract: what waits for the kernel runs once the generation that holds it is
// applied, runs with ok=false on a failure (and may keep waiting), and never runs before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelGate } from '../../src/core/out.js';

type Op = ['after', string, 'done' | 'retry'] | ['end', boolean] | ['applied', number, boolean];
const cases: Array<{ name: string; ops: Op[]; runs: string[] }> = [
  { name: 'a step that changed the desired state waits for its generation', ops: [['after', 'x', 'done'], ['end', true]], runs: [] },
  { name: '... and runs once that generation is applied', ops: [['after', 'x', 'done'], ['end', true], ['applied', 1, true]], runs: ['x:ok'] },
  { name: 'an older generation applied does not release a newer one', ops: [['end', true], ['after', 'x', 'done'], ['end', true], ['applied', 1, true]], runs: [] },
  { name: 'a newer generation applied releases older waits', ops: [['after', 'x', 'done'], ['end', true], ['after', 'y', 'done'], ['end', true], ['applied', 2, true]], runs: ['x:ok', 'y:ok'] },
  { name: 'a step that changed nothing runs at once when the kernel already holds the current generation', ops: [['end', true], ['applied', 1, true], ['after', 'x', 'done'], ['end', false]], runs: ['x:ok'] },
  { name: '... but waits while the current generation is not yet applied', ops: [['end', true], ['after', 'x', 'done'], ['end', false]], runs: [] },
  { name: 'a failure runs the wait with ok=false; done means it is dropped', ops: [['after', 'x', 'done'], ['end', true], ['applied', 1, false], ['applied', 1, true]], runs: ['x:fail'] },
  { name: 'a failure with retry keeps it for the next success', ops: [['after', 'x', 'retry'], ['end', true], ['applied', 1, false], ['applied', 1, true]], runs: ['x:fail', 'x:ok'] },
  { name: 'nothing runs before its step ends', ops: [['end', true], ['applied', 1, true], ['after', 'x', 'done']], runs: [] },
];

for (const c of cases) {
  test(`gate: ${c.name}`, () => {
    const g = new KernelGate();
    const runs: string[] = [];
    for (const op of c.ops) {
      if (op[0] === 'after') {
        const [, name, mode] = op;
        g.after((ok) => { runs.push(`${name}:${ok ? 'ok' : 'fail'}`); return !ok && mode === 'retry'; });
      } else if (op[0] === 'end') g.endStep(op[1]);
      else g.kernelApplied(op[1], op[2], op[2] ? undefined : 'EIO');
    }
    assert.deepEqual(runs, c.runs);
  });
}
