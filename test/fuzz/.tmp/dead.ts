import { InferenceSession } from '../../../src/session.js';
import { encodeModel, model, node, valueInfo, DataType } from '../models.js';
for (const N of [5000, 10000, 20000]) {
  const nodes = [node('Abs', ['x'], ['y'])];
  for (let i = 0; i < N; i++) nodes.push(node('Abs', [i ? `d${i - 1}` : 'x'], [`d${i}`]));
  const bytes = encodeModel(model({ input: [valueInfo('x', DataType.FLOAT, [4])], output: [valueInfo('y', DataType.FLOAT, null)], node: nodes }));
  const t = performance.now(); InferenceSession.createSync(bytes); console.log('dead chain', N, (performance.now() - t).toFixed(0), 'ms');
}
