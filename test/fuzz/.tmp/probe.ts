import { InferenceSession } from '../../../src/session.js';
import { Tensor } from '../../../src/tensor.js';
import { DataType, encodeModel, model, node, valueInfo } from '../models.js';
function probe(label: string, g: any, feeds: Record<string, Tensor>, opset = 13) {
  try {
    const s = InferenceSession.createSync(encodeModel(model(g, opset)), { rejectNonFinite: false, maxMemoryBytes: 1 << 24 });
    const out = s.runSync(feeds);
    console.log(label, 'ok', Object.values(out).map((t) => t.dims));
  } catch (e: any) { console.log(label, e.code ?? e.constructor.name, e.message.slice(0, 220)); }
}
const sc = (n: string, t = DataType.FLOAT) => valueInfo(n, t, []);
const f = (v: number) => new Tensor('float32', [v], []);
const i64 = (v: number[]) => new Tensor('int64', v.map(BigInt), [v.length]);
probe('range NaN', { input: [sc('a'), sc('b'), sc('c')], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Range', ['a', 'b', 'c'], ['y'])] }, { a: f(NaN), b: f(5), c: f(1) });
probe('range Inf', { input: [sc('a'), sc('b'), sc('c')], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Range', ['a', 'b', 'c'], ['y'])] }, { a: f(0), b: f(Infinity), c: f(1) });
probe('range huge', { input: [sc('a'), sc('b'), sc('c')], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Range', ['a', 'b', 'c'], ['y'])] }, { a: f(0), b: f(1e12), c: f(1) });
const shp = valueInfo('s', DataType.INT64, [2]);
probe('cos neg', { input: [shp], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('ConstantOfShape', ['s'], ['y'])] }, { s: i64([-3, 2]) });
probe('reshape neg', { input: [valueInfo('x', DataType.FLOAT, [6]), shp], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Reshape', ['x', 's'], ['y'])] }, { x: new Tensor('float32', new Float32Array(6), [6]), s: i64([-2, -3]) });
probe('expand neg', { input: [valueInfo('x', DataType.FLOAT, [1]), shp], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Expand', ['x', 's'], ['y'])] }, { x: new Tensor('float32', new Float32Array(1), [1]), s: i64([-2, 3]) });
probe('tile neg', { input: [valueInfo('x', DataType.FLOAT, [2, 2]), shp], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Tile', ['x', 's'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [2, 2]), s: i64([-2, 3]) });
probe('tile huge', { input: [valueInfo('x', DataType.FLOAT, [2, 2]), shp], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Tile', ['x', 's'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [2, 2]), s: i64([2 ** 40, 2 ** 40]) });
probe('pad neg', { input: [valueInfo('x', DataType.FLOAT, [2, 2]), valueInfo('p', DataType.INT64, [4])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Pad', ['x', 'p'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [2, 2]), p: i64([-5, 0, 0, 0]) });
probe('pad huge', { input: [valueInfo('x', DataType.FLOAT, [2, 2]), valueInfo('p', DataType.INT64, [4])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Pad', ['x', 'p'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [2, 2]), p: i64([2 ** 50, 0, 0, 0]) });
probe('slice', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('st', DataType.INT64, [1]), valueInfo('en', DataType.INT64, [1])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Slice', ['x', 'st', 'en'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), st: i64([-(2 ** 53)]), en: i64([2 ** 53]) });
probe('gather neg', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('i', DataType.INT64, [1])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Gather', ['x', 'i'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), i: i64([-5]) });
probe('split', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('sp', DataType.INT64, [2])], output: [valueInfo('y', DataType.FLOAT, null), valueInfo('z', DataType.FLOAT, null)], node: [node('Split', ['x', 'sp'], ['y', 'z'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), sp: i64([-1, 5]) });
probe('unsq', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('ax', DataType.INT64, [1])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Unsqueeze', ['x', 'ax'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), ax: i64([2 ** 40]) });
probe('cumsum axis', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('ax', DataType.INT64, [])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('CumSum', ['x', 'ax'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), ax: new Tensor('int64', [2n ** 40n], []) });
probe('reducesum axes', { input: [valueInfo('x', DataType.FLOAT, [4]), valueInfo('ax', DataType.INT64, [1])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('ReduceSum', ['x', 'ax'], ['y'])] }, { x: new Tensor('float32', new Float32Array(4), [4]), ax: i64([7]) });
probe('cos float shape', { input: [valueInfo('s', DataType.INT64, [3])], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('ConstantOfShape', ['s'], ['y'])] }, { s: i64([3000, 3000, 3000]) });
