/**
 * The kernel factories a session's worker threads are started with (kernels/threads.ts). A
 * factory's index in this list is its job id, the *_JOB constant its module exports; attention
 * comes after the GEMM because its factory is handed this list's earlier results (the worker's
 * own GEMM kernels).
 */
import { attentionKernels, ATTENTION_JOB } from './attention.js';
import { gemmKernels, GEMM_JOB } from './gemm.js';
import { geluKernels, GELU_JOB } from './gelu.js';
import { qgemmKernels, QGEMM_JOB } from './qgemm.js';
import { quantizeKernels, QUANTIZE_JOB } from './quantize.js';
import { ThreadPool, type KernelFactory } from './threads.js';

export const POOL_FACTORIES: readonly KernelFactory[] = [gemmKernels, qgemmKernels, attentionKernels, geluKernels, quantizeKernels];

/** Job id → factory, as the kernel modules number them; a test holds it equal to POOL_FACTORIES. */
export const JOB_IDS = { [GEMM_JOB]: gemmKernels, [QGEMM_JOB]: qgemmKernels, [ATTENTION_JOB]: attentionKernels, [GELU_JOB]: geluKernels, [QUANTIZE_JOB]: quantizeKernels };

/** A pool of `threads` threads (the caller and threads − 1 workers) running every kernel that splits. */
export function kernelPool(threads: number): ThreadPool {
  return new ThreadPool(threads, POOL_FACTORIES);
}
