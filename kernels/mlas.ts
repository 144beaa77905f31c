/**
 * float32 softmax, erf and GELU that round exactly as onnxruntime's MLAS kernels do on x86-64
 * (the AVX-512 kernels onnxruntime-node 1.30 runs on the machines lambert is tested on; the
 * AVX2 ones share the polynomials but sum in another order), verified bit for bit against
 * onnxruntime-node on random inputs.
 *
 * Why exactness and not just accuracy: in an int8 model every layer re-quantizes its float
 * activations (DynamicQuantizeLinear), so a difference of one float32 ulp upstream — in a softmax,
 * a GELU — can move a value across a rounding boundary and change the model's output by far more
 * than 1e-4. Computing what onnxruntime computes keeps int8 models bit-exact with it end to end.
 *
 * Every MLAS fused multiply-add is written fround(a·b + c): a·b of two float32 values is exact in
 * float64, so the only difference from a true single-rounding FMA is the double rounding of the
 * sum, which changes a result with probability ~2⁻²⁹ per operation.
 *
 * One self-contained factory (kernels/threads.ts runs it in the worker threads too).
 */
export function mlasKernels() {
  /** 2^m for the integer m of the exponential's range reduction, m ∈ [−150, 128]; index m + 150. */
  const POW2 = new Float64Array(279);
  for (let m = -150; m <= 128; m++) POW2[m + 150] = 2 ** m;
  /** Softmax's 16 accumulator lanes (one AVX-512 register). */
  const lanes = new Float64Array(16);

  /**
   * exp(x) as MlasComputeSumExpF32KernelAvx512F computes it for x = input − max ≤ 0: range
   * reduction by m = round(x / ln 2), a degree-6 polynomial, then scaling by 2^m (VSCALEFPS:
   * exact, or one rounding into the subnormals). Constants are MLAS's, as float32.
   */
  function softmaxExp(x: number): number {
    // MAXPS(lower, x): a NaN x passes through.
    let v = -103.97208404541016 > x ? -103.97208404541016 : x;
    const biased = Math.fround(v * 1.4426950216293335 + 12582912);
    const m = Math.fround(biased - 12582912);
    v = Math.fround(m * -0.693145751953125 + v);
    v = Math.fround(m * -0.000001428606765330187 + v);
    let p = 0.0013780593872070312;
    p = Math.fround(p * v + 0.008373124524950981);
    p = Math.fround(p * v + 0.041669536381959915);
    p = Math.fround(p * v + 0.166664719581604);
    p = Math.fround(p * v + 0.49999985098838806);
    p = Math.fround(p * v + 1);
    p = Math.fround(p * v + 1);
    return Math.fround(p * POW2[m + 150]!);
  }

  /**
   * MlasComputeSoftmax on one row of n values (out may be x at the same offset): the maximum,
   * exp(x − max) stored while summed in 16 lanes — elements i, i + 16, i + 32 of each 48-block
   * into lane i, then the remaining 16-blocks — the lanes reduced pairwise (8 + 8, then as two
   * VHADDPS), and every exponential scaled by float32(1 / sum).
   */
  function softmaxRow(x: Float32Array, xOff: number, n: number, out: Float32Array, outOff: number): void {
    let max = -3.4028234663852886e38;
    for (let j = 0; j < n; j++) {
      const v = x[xOff + j]!;
      // A NaN makes its exponential, hence the sum and every output, NaN anyway.
      if (v > max || v !== v) max = v;
    }
    const negMax = -max;
    // One call site, so that TurboFan inlines softmaxExp (several would exhaust its budget and
    // leave calls that box every argument); consecutive iterations are independent.
    for (let j = 0; j < n; j++) out[outOff + j] = softmaxExp(Math.fround(x[xOff + j]! + negMax));
    const acc = lanes;
    acc.fill(0);
    let j = 0;
    for (; j + 48 <= n; j += 48) {
      for (let l = 0; l < 16; l++) {
        const at = outOff + j + l;
        acc[l] = Math.fround(Math.fround(Math.fround(acc[l]! + out[at]!) + out[at + 16]!) + out[at + 32]!);
      }
    }
    for (; j < n; j += 16) {
      for (let l = 0; l < 16 && j + l < n; l++) acc[l] = Math.fround(acc[l]! + out[outOff + j + l]!);
    }
    const s0 = Math.fround(acc[8]! + acc[0]!);
    const s1 = Math.fround(acc[9]! + acc[1]!);
    const s2 = Math.fround(acc[10]! + acc[2]!);
    const s3 = Math.fround(acc[11]! + acc[3]!);
    const s4 = Math.fround(acc[12]! + acc[4]!);
    const s5 = Math.fround(acc[13]! + acc[5]!);
    const s6 = Math.fround(acc[14]! + acc[6]!);
    const s7 = Math.fround(acc[15]! + acc[7]!);
    const low = Math.fround(Math.fround(s0 + s1) + Math.fround(s2 + s3));
    const high = Math.fround(Math.fround(s4 + s5) + Math.fround(s6 + s7));
    const scale = Math.fround(1 / Math.fround(low + high));
    for (let t = 0; t < n; t++) out[outOff + t] = scale * out[outOff + t]!;
  }

  /**
   * dst[dstOff + i] = erf(float32(src[srcOff + i] · inputScale)), i < n, as MLAS's float32 erf
   * (MlasComputeErf, and the erf inside its exact GELU): an odd polynomial in x² up to 0.921875,
   * beyond it 1 − exp(−poly(|x|)), |x| clamped at 3.925.
   */
  function erfRange(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number, inputScale: number): void {
    // The body sits in the loop, not in a scalar erf(): V8 does not inline a function this long,
    // and a call it does not inline boxes its double argument and result (40 bytes per element).
    for (let i = 0; i < n; i++) {
      const x = Math.fround(src[srcOff + i]! * inputScale);
      const negative = x < 0 || (x === 0 && 1 / x < 0);
      // |x| with −0 → +0, so the sign is applied once, below (erf(−0) = −0).
      let a = Math.abs(x);
      // MINPS(upper, a): a NaN a passes through.
      a = 3.924999952316284 < a ? 3.924999952316284 : a;
      let result: number;
      if (a > 0.921875) {
        let r = 0.00001729489304125309;
        r = Math.fround(r * a - 0.00038320868043228984);
        r = Math.fround(r * a + 0.003883934346958995);
        r = Math.fround(r * a - 0.024254560470581055);
        r = Math.fround(r * a + 0.1067778468132019);
        r = Math.fround(r * a + 0.6348466873168945);
        r = Math.fround(r * a + 0.12871751189231873);
        r = -Math.fround(r * a + a);
        r = -88.37625885009766 > r ? -88.37625885009766 : r;
        const m = Math.fround(Math.fround(1.4426950216293335 * r + 12582912) - 12582912);
        let f = Math.fround(m * -0.693145751953125 + r);
        f = Math.fround(m * -0.000001428606765330187 + f);
        let y = 0.001383198075927794;
        y = Math.fround(y * f + 0.008375500328838825);
        y = Math.fround(y * f + 0.04166895151138306);
        y = Math.fround(y * f + 0.1666644662618637);
        y = Math.fround(y * f + 0.49999985098838806);
        y = Math.fround(y * f + 1);
        y = Math.fround(y * f + 1);
        result = Math.fround(1 - Math.fround(y * POW2[m + 150]!));
      } else {
        const s = Math.fround(a * a);
        let r = -0.0005991049692966044;
        r = Math.fround(r * s + 0.004993395879864693);
        r = Math.fround(r * s - 0.026766734197735786);
        r = Math.fround(r * s + 0.11281802505254745);
        r = Math.fround(r * s - 0.37612485885620117);
        r = Math.fround(r * s + 0.12837915122509003);
        result = Math.fround(r * a + a);
      }
      dst[dstOff + i] = negative ? -result : result;
    }
  }

  /** Elements per erf pass of {@link geluRange}: its scratch stays in L1. */
  const GELU_CHUNK = 256;
  const geluErf = new Float32Array(GELU_CHUNK);

  /**
   * dst[dstOff + i] = MLAS's exact GELU of src[srcOff + i], i < n: 0.5·x · (erf(x · float32(1/√2))
   * + 1) in float32 steps; NaN passes through. src and dst may be the same array at the same
   * offset: each chunk's erf goes to scratch before dst is written.
   */
  function geluRange(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
    for (let c = 0; c < n; c += GELU_CHUNK) {
      const len = Math.min(GELU_CHUNK, n - c);
      erfRange(src, srcOff + c, geluErf, 0, len, 0.7071067690849304);
      for (let i = 0; i < len; i++) {
        const x = src[srcOff + c + i]!;
        dst[dstOff + c + i] = x !== x ? x : Math.fround(0.5 * x) * Math.fround(geluErf[i]! + 1);
      }
    }
  }

  /** The pool calls every factory's `rows`; these kernels are called from the others' jobs only. */
  function rows(): void {}

  return { softmaxRow, erfRange, geluRange, rows };
}

export type MlasKernels = ReturnType<typeof mlasKernels>;

/** This thread's instance. */
export const mlasOnThisThread: MlasKernels = mlasKernels();

/** mlasKernels' job id in the worker threads (its place in kernels/pool.ts's list). */
export const MLAS_JOB = 0;

/**
 * Whether the run in progress rounds like onnxruntime: a session decides (SessionOptions
 * floatRounding; by default, for graphs whose activations are re-quantized) and the kernels with
 * a faster float64 form — softmax, GELU, attention, products of two activations — follow it.
 * Kernels split over worker threads hand the choice to them as a job parameter.
 */
let onnxruntimeRounding = false;

export function roundsLikeOnnxruntime(): boolean {
  return onnxruntimeRounding;
}

export function withOnnxruntimeRounding<R>(on: boolean, fn: () => R): R {
  const previous = onnxruntimeRounding;
  onnxruntimeRounding = on;
  try {
    return fn();
  } finally {
    onnxruntimeRounding = previous;
  }
}
