/**
 * onnxruntime-node as the oracle in tests, with one hardware caveat handled.
 *
 * On x86-64 CPUs without AVX-512 VNNI / AVX-VNNI (AVX2-only Intel, AMD EPYC), MLAS's uint8 × int8
 * GEMM multiplies with vpmaddubsw, which adds adjacent products with int16 SATURATION: two products
 * of 255 · 127 already overflow. onnxruntime documents this ("U8S8 ... may have saturation issues,
 * use reduce_range or U8U8"). On such a host onnxruntime's answer for a uint8-activation, int8-weight
 * MatMulInteger is not the ONNX operator's answer, and it is not what the same onnxruntime gives on a
 * VNNI host. lambert computes the operator exactly (Int32 accumulation, as the spec says).
 *
 * So that a parity test checks lambert against onnxruntime on every host: when the probe finds
 * onnxruntime saturating, the model handed to onnxruntime has its int8 MatMulInteger weights
 * re-expressed as uint8 (w + 128 with zero point zp + 128: every (w − zp) is unchanged, so the
 * operator's exact result is the same), which MLAS runs through its U8U8 kernel that widens to
 * int16 before multiplying and does not saturate.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../src/proto.js';
import { Tensor } from '../../src/tensor.js';
import { tensorFromProto } from '../../src/tensorProto.js';

const T = onnx.TensorProto.DataType;

/** Whether onnxruntime's MLAS runs its x86-64 AVX-512 kernels here, the ones whose float rounding lambert reproduces. */
export const MLAS_AVX512 = process.arch === 'x64' && existsSync('/proc/cpuinfo') && /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

/** Runs `bytes` in onnxruntime-node (one thread) and returns its outputs as lambert tensors. */
export async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  try {
    const out = await session.run(ortFeeds);
    const result: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(out)) result[name] = new Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
    return result;
  } finally {
    await session.release();
  }
}

let saturates: Promise<boolean> | undefined;

/** Whether this host's onnxruntime saturates uint8 × int8 pair sums (see the file comment). */
export function ortSaturatesU8S8(): Promise<boolean> {
  saturates ??= (async () => {
    // [255, 255] · [127, 127]ᵀ = 64770 exactly; a saturating kernel returns 32767.
    const model = onnx.ModelProto.encode({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'probe',
        node: [{ opType: 'MatMulInteger', input: ['A', 'B'], output: ['Y'] }],
        initializer: [{ name: 'B', dims: [2, 1], dataType: T.INT8, rawData: Uint8Array.from([127, 127]) }],
        input: [{ name: 'A', type: { tensorType: { elemType: T.UINT8, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } } }],
        output: [{ name: 'Y', type: { tensorType: { elemType: T.INT32, shape: { dim: [{ dimValue: 1 }, { dimValue: 1 }] } } } }],
      },
    }).finish();
    const { Y } = await ortRun(model, { A: new Tensor('uint8', Uint8Array.from([255, 255]), [1, 2]) });
    return Y!.data[0] !== 64770;
  })();
  return saturates;
}

/** `bytes` with every int8 initializer MatMulInteger reads as B re-expressed as uint8 (same exact result). */
export function withUint8Weights(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const byName = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const shifted = (name: string): string => {
    const renamed = `${name}__as_uint8`;
    if (byName.has(renamed)) return renamed;
    const source = byName.get(name)!;
    const values = tensorFromProto(source, 'initializer');
    const proto = onnx.TensorProto.create({ name: renamed, dims: source.dims, dataType: T.UINT8, rawData: Uint8Array.from(values.data as Int8Array, (v) => v + 128) });
    graph.initializer!.push(proto);
    byName.set(renamed, proto);
    return renamed;
  };
  for (const node of graph.node ?? []) {
    if (node.opType !== 'MatMulInteger' || (node.domain ?? '') !== '') continue;
    const b = node.input![1]!;
    if (byName.get(b)?.dataType !== T.INT8) continue;
    const zeroPoint = node.input![3];
    if (zeroPoint && byName.get(zeroPoint)?.dataType !== T.INT8) continue;
    const inputs = [...node.input!];
    while (inputs.length < 3) inputs.push('');
    inputs[1] = shifted(b);
    if (zeroPoint) inputs[3] = shifted(zeroPoint);
    else {
      const name = `${node.name ?? b}__zero_point_128`;
      graph.initializer!.push(onnx.TensorProto.create({ name, dims: [], dataType: T.UINT8, rawData: Uint8Array.from([128]) }));
      inputs[3] = name;
    }
    node.input = inputs;
  }
  return onnx.ModelProto.encode(model).finish();
}

/** The model to give onnxruntime so that its answer is the operators' exact one on this host. */
export async function forOrtOracle(bytes: Uint8Array): Promise<Uint8Array> {
  return (await ortSaturatesU8S8()) ? withUint8Weights(bytes) : bytes;
}
