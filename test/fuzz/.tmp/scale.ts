import { InferenceSession } from '../../../src/session.js';
import { Tensor } from '../../../src/tensor.js';
import { encodeModel, model, node, valueInfo, DataType, intAttr } from '../models.js';
function time(label: string, build: () => Uint8Array) {
  const t0 = performance.now();
  const bytes = build();
  const t1 = performance.now();
  try {
    const s = InferenceSession.createSync(bytes);
    const t2 = performance.now();
    s.runSync({ x: new Tensor('float32', new Float32Array(4), [4]) });
    const t3 = performance.now();
    console.log(label, bytes.length, 'build', (t1 - t0).toFixed(0), 'load', (t2 - t1).toFixed(0), 'plan+run', (t3 - t2).toFixed(0));
  } catch (e) { console.log(label, 'error', (e as Error).message.slice(0, 200), (performance.now() - t1).toFixed(0)); }
}
const x = valueInfo('x', DataType.FLOAT, [4]);
for (const N of [10000, 50000]) {
  time(`chain ${N}`, () => {
    const nodes = [];
    for (let i = 0; i < N; i++) nodes.push(node('Abs', [i ? `a${i - 1}` : 'x'], [`a${i}`]));
    return encodeModel(model({ input: [x], output: [valueInfo(`a${N - 1}`, DataType.FLOAT, null)], node: nodes }));
  });
  time(`identity ${N}`, () => {
    const nodes = [];
    for (let i = 0; i < N; i++) nodes.push(node('Identity', [i ? `a${i - 1}` : 'x'], [`a${i}`]));
    for (let i = 0; i < N; i++) nodes.push(node('Abs', [`a${N - 1}`], [`b${i}`]));
    return encodeModel(model({ input: [x], output: [valueInfo(`b${N - 1}`, DataType.FLOAT, null)], node: nodes }));
  });
  time(`fragment ${N}`, () => {
    // N values alive at once, every other one dies early, then N more allocations of a bigger size.
    const nodes = [];
    for (let i = 0; i < N; i++) nodes.push(node('Abs', ['x'], [`a${i}`]));
    for (let i = 0; i < N; i += 2) nodes.push(node('Abs', [`a${i}`], [`d${i}`]));
    const pieces = [];
    for (let i = 0; i < N; i++) pieces.push(i % 2 ? `a${i}` : `d${i}`);
    nodes.push(node('Concat', pieces, ['y'], [intAttr('axis', 0)]));
    return encodeModel(model({ input: [x], output: [valueInfo('y', DataType.FLOAT, null)], node: nodes }));
  });
  time(`wide ${N}`, () => {
    const nodes = [];
    for (let i = 0; i < N; i++) nodes.push(node('Abs', ['x'], [`a${i}`]));
    nodes.push(node('Concat', Array.from({ length: N }, (_, i) => `a${i}`), ['y'], [intAttr('axis', 0)]));
    return encodeModel(model({ input: [x], output: [valueInfo('y', DataType.FLOAT, null)], node: nodes }));
  });
}
