/**
 * Intra-op threads for the GEMMs, attention and GELU (session option intraOpNumThreads).
 *
 * A session with n > 1 threads owns n − 1 workers. A kernel call splits its rows between the
 * calling thread and the workers and blocks on Atomics.wait until they are done, so a run stays
 * synchronous. Operands travel as SharedArrayBuffer views (the plan's arena and the packed weights
 * already are; anything else is copied into per-slot shared scratch); the numeric arguments go
 * through a small shared control block per worker.
 *
 * The workers run from source text: each kernel module exposes its code as one self-contained
 * factory function whose text is evaluated in the worker (a factory that needs another module's
 * kernels takes them as arguments rather than naming them). That works alike from TypeScript under
 * vitest and inside the esbuild bundles (where there is no separate worker file to point at).
 */
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';

/** Below this many multiply-adds (M·N·K) a GEMM stays on the calling thread: waking a worker costs more. */
export const PARALLEL_MIN_WORK = 1 << 20;

/** How long a split waits for a worker's answer before it fails (no job of a BERT-size model comes near it). */
const WORKER_SILENCE_MS = 120_000;

/** Control block layout (Int32 indices); the job's numbers follow as float64 from byte ARGS_BYTE. */
const SEQ = 0;
const DONE = 1;
const STATUS = 2;
const ARGS_BYTE = 16;
const MAX_ARGS = 24;

/** What a kernel module gives the pool: `rows(start, count, p, arrays)` computes rows [start, start+count). */
export type RowsKernel<T> = (start: number, count: number, p: Float64Array, arrays: readonly T[]) => void;

/**
 * A kernel module's factory. It is called with the objects the factories before it in the pool's
 * list returned (so the attention kernels get this thread's GEMM), and returns at least `rows`.
 */
export type KernelFactory = (...earlier: any[]) => { rows: RowsKernel<any> };

type SharedArray = Float32Array | Int32Array | Int8Array | Uint8Array;

interface WorkerSlot {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly ctl: Int32Array;
  readonly args: Float64Array;
}

/**
 * The worker's program. Self-contained like the kernel factories: it receives node:worker_threads
 * (a bundler would rewrite a `require` in here) and the factories, and runs jobs until terminated.
 * A worker that cannot start reports DONE = −1, so the caller fails instead of waiting forever.
 */
function workerMain(threads: typeof import('node:worker_threads'), factories: readonly KernelFactory[]): void {
  const ctl = new Int32Array(threads.workerData.control, 0, 4);
  const args = new Float64Array(threads.workerData.control, 16, 24);
  const port = threads.workerData.port;
  const kernels: RowsKernel<unknown>[] = [];
  try {
    const built: { rows: RowsKernel<unknown> }[] = [];
    for (const factory of factories) built.push(factory(...built));
    for (const k of built) kernels.push(k.rows);
  } catch {
    Atomics.store(ctl, 1, -1);
    Atomics.notify(ctl, 1);
    return;
  }
  let seen = 0;
  for (;;) {
    // A run's kernels follow each other within microseconds: spinning a little keeps this thread
    // on its core for the next one, where sleeping would add a wake-up (tens to hundreds of µs
    // on a virtual CPU) to every split. An idle session sleeps.
    const spinUntil = performance.now() + 1;
    while (Atomics.load(ctl, 0) === seen && performance.now() < spinUntil) {}
    Atomics.wait(ctl, 0, seen);
    seen = Atomics.load(ctl, 0);
    let status = 0;
    try {
      const received = threads.receiveMessageOnPort(port);
      if (received === undefined) throw new Error('a job arrived without its operands');
      kernels[args[0]!]!(args[1]!, args[2]!, args.subarray(3), received.message);
    } catch {
      status = 1;
    }
    // Whatever happened, the caller blocked in split() hears back: a job never goes unanswered.
    Atomics.store(ctl, 2, status);
    Atomics.store(ctl, 1, seen);
    Atomics.notify(ctl, 1);
  }
}

export class ThreadPool {
  private readonly workers: WorkerSlot[] = [];
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  private readonly params = new Float64Array(MAX_ARGS);

  /** `factories[id]` is the kernel factory whose `rows` job id `id` runs. */
  constructor(
    readonly threads: number,
    factories: readonly KernelFactory[],
  ) {
    const source = `(${workerMain.toString()})(require('node:worker_threads'), [${factories.map((f) => `(${f.toString()})`).join(',')}]);`;
    for (let i = 1; i < threads; i++) {
      const control = new SharedArrayBuffer(ARGS_BYTE + MAX_ARGS * 8);
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(source, { eval: true, workerData: { control, port: port2 }, transferList: [port2] });
      // Idle workers sit in Atomics.wait; they must not keep the process alive.
      worker.unref();
      port1.unref();
      this.workers.push({ worker, port: port1, ctl: new Int32Array(control, 0, 4), args: new Float64Array(control, ARGS_BYTE, MAX_ARGS) });
    }
  }

  /**
   * `arr` itself when it lives in shared memory, else a copy of it in the shared scratch buffer
   * `slot`, viewed as the same type and length (the whole array: a result copied back must not
   * clobber what the kernel leaves alone).
   */
  shared<T extends SharedArray>(arr: T, slot: number): T {
    if (arr.buffer instanceof SharedArrayBuffer) return arr;
    const view = new (arr.constructor as new (b: SharedArrayBuffer, o: number, n: number) => T)(this.scratch(slot, arr.byteLength), 0, arr.length);
    view.set(arr);
    return view;
  }

  /** Shared scratch buffer `slot` of at least `bytes` bytes; reused by later calls. */
  scratch(slot: number, bytes: number): SharedArrayBuffer {
    let buf = this.buffers.get(slot);
    if (!buf || buf.byteLength < bytes) {
      buf = new SharedArrayBuffer(Math.max(bytes, 8));
      this.buffers.set(slot, buf);
    }
    return buf;
  }

  /**
   * Runs `kernel` (job id `id` in the workers, the same function on this thread) over `rows`
   * rows, split in multiples of `quantum` between this thread and the workers; returns when all
   * are done. `p` are the job's numbers (at most MAX_ARGS − 3), `arrays` its shared operands.
   */
  split<T extends SharedArray>(id: number, kernel: RowsKernel<T>, rows: number, quantum: number, p: readonly number[], arrays: readonly T[]): void {
    const quanta = Math.ceil(rows / quantum);
    const chunk = Math.ceil(quanta / this.threads) * quantum;
    const params = this.params.subarray(0, p.length);
    params.set(p);
    const started: WorkerSlot[] = [];
    for (let w = 0; w < this.workers.length; w++) {
      const start = (w + 1) * chunk;
      if (start >= rows) break;
      const slot = this.workers[w]!;
      slot.args[0] = id;
      slot.args[1] = start;
      slot.args[2] = Math.min(chunk, rows - start);
      slot.args.set(p, 3);
      slot.port.postMessage(arrays);
      Atomics.add(slot.ctl, SEQ, 1);
      Atomics.notify(slot.ctl, SEQ);
      started.push(slot);
    }
    let failed = false;
    try {
      kernel(0, Math.min(chunk, rows), params, arrays);
    } finally {
      for (const slot of started) {
        const seq = Atomics.load(slot.ctl, SEQ);
        // The workers' shares end about when this thread's does: wait for them awake.
        const spinUntil = performance.now() + 1;
        while (Atomics.load(slot.ctl, DONE) !== seq && performance.now() < spinUntil) {}
        // A worker that died without answering (its thread gone, not a job that threw) would
        // block this thread for good: past WORKER_SILENCE_MS the split fails instead.
        const giveUpAt = performance.now() + WORKER_SILENCE_MS;
        let done = Atomics.load(slot.ctl, DONE);
        for (; done !== seq && done !== -1 && performance.now() < giveUpAt; done = Atomics.load(slot.ctl, DONE)) Atomics.wait(slot.ctl, DONE, done, 1000);
        if (done !== seq || Atomics.load(slot.ctl, STATUS) !== 0) failed = true;
      }
    }
    if (failed) throw new Error('a kernel worker thread failed');
  }

  async terminate(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const slot of workers) slot.port.close();
    await Promise.all(workers.map((slot) => slot.worker.terminate()));
    this.buffers.clear();
  }
}

/** The pool of the session whose run is in progress (runs are synchronous, so there is at most one). */
let active: ThreadPool | null = null;

export function activePool(): ThreadPool | null {
  return active;
}

/** Makes `pool` the one kernels use until `fn` returns. */
export function withPool<R>(pool: ThreadPool | null, fn: () => R): R {
  const previous = active;
  active = pool;
  try {
    return fn();
  } finally {
    active = previous;
  }
}
