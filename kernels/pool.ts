/**
 * The kernel factories a session's worker threads are started with (kernels/threads.ts). A
 * factory's index in this list is its job id, the *_JOB constant its module exports; the MLAS
 * kernels come first because the attention and GELU factories are handed this list's earlier
 * results (the worker's own instance of them).
 */
import { attentionKernels, ATTENTION_JOB } from './attention.js';
import { mlasKernels, MLAS_JOB } from './mlas.js';
import { gemmKernels, GEMM_JOB } from './gemm.js';
import { geluKernels, GELU_JOB } from './gelu.js';
import { qgemmKernels, QGEMM_JOB } from './qgemm.js';
import { quantizeKernels, QUANTIZE_JOB } from './quantize.js';
import { ThreadPool, type KernelFactory } from './threads.js';

export const POOL_FACTORIES: readonly KernelFactory[] = [mlasKernels, gemmKernels, qgemmKernels, attentionKernels, geluKernels, quantizeKernels];

/** Job id → factory, as the kernel modules number them; a test holds it equal to POOL_FACTORIES. */
export const JOB_IDS = { [MLAS_JOB]: mlasKernels, [GEMM_JOB]: gemmKernels, [QGEMM_JOB]: qgemmKernels, [ATTENTION_JOB]: attentionKernels, [GELU_JOB]: geluKernels, [QUANTIZE_JOB]: quantizeKernels };

/** A pool of `threads` threads (the caller and threads − 1 workers) running every kernel that splits. */
export function kernelPool(threads: number): ThreadPool {
  return new ThreadPool(threads, POOL_FACTORIES);
}
