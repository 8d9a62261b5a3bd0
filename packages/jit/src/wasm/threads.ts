/**
 * A second thread for large kernels: one worker (Node `worker_threads`, found with
 * `process.getBuiltinModule`, so no import ties the package to Node) that instantiates the same
 * kernel modules on the same shared `WebAssembly.Memory` and runs jobs the main thread posts in a
 * shared control block. Synchronisation spins briefly, then sleeps in `Atomics.wait` (a wait/notify
 * round trip alone costs 40–80 µs here, which would ruin small kernels); a sleeping side is woken
 * with `Atomics.notify` only when it announced that it sleeps.
 *
 * Where shared memory or workers are unavailable (a browser page without cross-origin isolation,
 * or no `worker_threads`), `threadPool()` returns undefined and kernels run on one thread with the
 * same results (the split is by rows: every element is computed by the same code either way).
 */
import type { WasmModule } from "./api.js";
import type { Arena } from "./arena.js";

type WorkerLike = {
  postMessage(message: unknown): void;
  unref(): void;
  terminate(): Promise<number>;
  on(event: "error" | "exit", listener: (e: unknown) => void): void;
};
type WorkerThreads = { Worker: new (code: string, options: { eval: true; workerData: unknown }) => WorkerLike };

/** `node:worker_threads`, when this runtime has it (Node ≥ 20.16: `process.getBuiltinModule`). */
const workerThreads: WorkerThreads | undefined = (() => {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
    return typeof get === "function" ? (get("node:worker_threads") as WorkerThreads | undefined) : undefined;
  } catch {
    return undefined;
  }
})();

// control block (Int32 indices)
const REQUEST = 0; // incremented by the main thread per command
const DONE = 1; // set to the request number by the worker when finished
const JOB = 2; // instance index, or −1: register (a message is waiting)
const ARGS = 3; // kernel arguments a, b, c, scratch, then the b and c steps per block and the block count
const WORKER_SLEEPS = 10;
const MAIN_SLEEPS = 11;
const FAILED = 12;
const CLAIM = 13; // the posted request's number while unclaimed; −number once claimed (by either side)
const NEXT = 14; // the next block to take (both threads take blocks until none is left)
/** Microseconds a side spins before sleeping. */
const SPIN_MICROSECONDS = 100;

const WORKER_SOURCE = String.raw`
const { parentPort, workerData, receiveMessageOnPort } = require("node:worker_threads");
const ctl = new Int32Array(workerData.control);
const kernels = [];
let seen = 0;
for (;;) {
  let started = performance.now();
  let spins = 0;
  while (Atomics.load(ctl, ${REQUEST}) === seen) {
    if ((++spins & 255) === 0 && performance.now() - started > ${SPIN_MICROSECONDS / 1000}) {
      Atomics.store(ctl, ${WORKER_SLEEPS}, 1);
      Atomics.wait(ctl, ${REQUEST}, seen);
      Atomics.store(ctl, ${WORKER_SLEEPS}, 0);
      started = performance.now();
    }
  }
  seen = Atomics.load(ctl, ${REQUEST});
  // claim the request; the main thread may have claimed it first (then it runs the job itself)
  if (Atomics.compareExchange(ctl, ${CLAIM}, seen, -seen) !== seen) {
    Atomics.store(ctl, ${DONE}, seen);
    continue;
  }
  const job = Atomics.load(ctl, ${JOB});
  try {
    if (job === -1) {
      // messages in order: drops of collected programs' kernels, then the registration
      for (;;) {
        const message = receiveMessageOnPort(parentPort);
        if (message === undefined) continue;
        const m = message.message;
        if (m.drop !== undefined) {
          kernels[m.drop] = undefined;
          continue;
        }
        kernels[m.index] = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports[m.name];
        break;
      }
    } else {
      const f = kernels[job];
      const a = ctl[${ARGS}], b = ctl[${ARGS + 1}], c = ctl[${ARGS + 2}], s = ctl[${ARGS + 3}];
      const bStep = ctl[${ARGS + 4}], cStep = ctl[${ARGS + 5}], count = ctl[${ARGS + 6}];
      let i;
      while ((i = Atomics.add(ctl, ${NEXT}, 1)) < count) f(a, b + i * bStep, c + i * cStep, s);
    }
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${DONE}, seen);
  if (Atomics.load(ctl, ${MAIN_SLEEPS}) === 1) Atomics.notify(ctl, ${DONE});
}
`;

/**
 * A kernel over `count` blocks: block i is `kernel(a, b + i·bStep, c + i·cStep, scratch)`. Both
 * threads take blocks from a shared counter, so a late or descheduled worker just takes fewer.
 */
export interface Job {
  /** Posts the job to the worker; false when the worker is busy (the caller runs every block). */
  start(): boolean;
  /** After a successful `start()`: the next block index for the main thread (≥ count: none left). */
  next(): number;
  /**
   * After `start()`: true once the worker has done the job; false when the worker had not begun
   * it (asleep, or descheduled on a busy machine) — the job is withdrawn and the caller runs it.
   */
  finish(): boolean;
}

/**
 * Jobs posted to the worker, how many of them it had not begun when the main thread took them
 * back, and how many times the worker was replaced (to free collected programs' memories).
 */
export const threadStats = { posted: 0, withdrawn: 0, restarts: 0 };

/** Collected programs whose kernels the worker still holds before it is replaced (freeing them). */
const RESTART_AFTER_DROPS = 16;

export class ThreadPool {
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private worker: WorkerLike | undefined;
  /** Bumped each time a new worker starts; kernels registered with an older one re-register. */
  private generation = 0;
  private kernels = 0;
  private busy = false;
  private request = 0;
  private drops = 0;
  /**
   * A collected program's kernels are dropped by the worker too. The worker never allocates, so
   * its isolate never collects garbage: after a number of drops it is replaced (terminating it
   * frees the shared memories it held), and live jobs register again with the new one.
   */
  private readonly dropped = new FinalizationRegistry<{ index: number; generation: number }>((held) => {
    if (held.generation !== this.generation) return;
    this.drops++;
    this.worker?.postMessage({ drop: held.index });
  });

  constructor(private readonly threads: WorkerThreads) {
    this.startWorker();
  }

  private startWorker(): void {
    const control = new SharedArrayBuffer(128);
    this.ctl = new Int32Array(control);
    const worker = new this.threads.Worker(WORKER_SOURCE, { eval: true, workerData: { control } });
    worker.unref();
    this.worker = worker;
    this.generation++;
    this.kernels = 0;
    this.request = 0;
    this.drops = 0;
  }

  /** Waits until the worker has finished `request` (spinning, then sleeping). */
  private wait(request: number): void {
    const ctl = this.ctl;
    let started = performance.now();
    let spins = 0;
    let done: number;
    while ((done = Atomics.load(ctl, DONE)) < request) {
      if ((++spins & 255) === 0 && performance.now() - started > SPIN_MICROSECONDS / 1000) {
        Atomics.store(ctl, MAIN_SLEEPS, 1);
        Atomics.wait(ctl, DONE, done, 50);
        Atomics.store(ctl, MAIN_SLEEPS, 0);
        started = performance.now();
      }
    }
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error("internal: a WebAssembly kernel failed on the worker thread");
  }

  private post(): number {
    const ctl = this.ctl;
    const request = ++this.request;
    Atomics.store(ctl, CLAIM, request);
    Atomics.store(ctl, REQUEST, request);
    if (Atomics.load(ctl, WORKER_SLEEPS) === 1) Atomics.notify(ctl, REQUEST);
    return request;
  }

  /** Instantiates `module`'s export `name` on `memory` in the worker (waits for it). */
  private register(module: WasmModule, memory: Arena["memory"], name: string): number {
    const index = this.kernels++;
    this.worker!.postMessage({ module, memory, name, index });
    Atomics.store(this.ctl, JOB, -1);
    this.wait(this.post());
    return index;
  }

  /** A job running `module`'s export `name` on the arena's (shared) memory. */
  job(arena: Arena, module: WasmModule, name: string, args: readonly [a: number, b: number, c: number, scratch: number, bStep: number, cStep: number, count: number]): Job {
    if (!arena.shared) throw new Error("internal: threads need a shared memory");
    if (this.drops >= RESTART_AFTER_DROPS && !this.busy) {
      void this.worker?.terminate();
      this.startWorker();
      threadStats.restarts++;
    }
    const held = { index: this.register(module, arena.memory, name), generation: this.generation };
    let request = 0;
    const job: Job = {
      start: () => {
        if (this.busy) return false;
        if (held.generation !== this.generation) {
          held.index = this.register(module, arena.memory, name);
          held.generation = this.generation;
        }
        this.busy = true;
        const ctl = this.ctl;
        Atomics.store(ctl, JOB, held.index);
        for (let i = 0; i < 7; i++) Atomics.store(ctl, ARGS + i, args[i]!);
        Atomics.store(ctl, NEXT, 0);
        request = this.post();
        threadStats.posted++;
        return true;
      },
      next: () => Atomics.add(this.ctl, NEXT, 1),
      finish: () => {
        try {
          // not begun yet: withdraw it (the caller computes it; same code, same results)
          if (Atomics.compareExchange(this.ctl, CLAIM, request, -request) === request) {
            threadStats.withdrawn++;
            return false;
          }
          this.wait(request);
          return true;
        } finally {
          this.busy = false;
        }
      },
    };
    this.dropped.register(job, held);
    return job;
  }
}

let pool: ThreadPool | undefined | null = null;

/** The process's worker (created on first use), or undefined without workers or shared memory. */
export function threadPool(): ThreadPool | undefined {
  if (pool === null) {
    pool = workerThreads !== undefined && typeof SharedArrayBuffer === "function" && typeof Atomics.wait === "function" ? new ThreadPool(workerThreads) : undefined;
  }
  return pool;
}

/** Whether two threads are possible here (workers and shared memory). */
export function threadsAvailable(): boolean {
  return workerThreads !== undefined && typeof SharedArrayBuffer === "function";
}
