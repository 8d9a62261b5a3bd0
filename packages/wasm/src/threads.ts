/**
 * A second thread for large kernels: one worker that instantiates the same kernel modules on the
 * same shared `WebAssembly.Memory` and runs jobs the main thread posts in a shared control block.
 *
 * - Node: `worker_threads` (found with `process.getBuiltinModule`, so no import ties the package to
 *   Node), the worker source evaluated as a string, with no inherited Node flags (`execArgv: []`: a
 *   process started with `--input-type=module` or a script on stdin would otherwise evaluate it as
 *   a module). Registering a kernel is synchronous: the worker takes the message with
 *   `receiveMessageOnPort` while the main thread waits. Synchronisation spins briefly, then sleeps
 *   in `Atomics.wait` (a wait/notify round trip alone costs 40–80 µs here, which would ruin small
 *   kernels); a sleeping side is woken with `Atomics.notify` only when it announced that it sleeps.
 * - No wait is unbounded: every `Atomics.wait` has a timeout, and the main thread gives up on a
 *   worker that has not started within START_WAIT_MS (the job runs on one thread; the worker is
 *   used once it runs), that exited (it flags its exit in the control block), or that does not
 *   finish a job it claimed within LOST_AFTER_MS. A worker that failed or died is never used again:
 *   one thread from then on, with the reason in `kernelInfo().threadsUnavailable`, and the blocks
 *   of a job it had claimed are computed again by the main thread (same results).
 * - Browsers: a Web Worker from a Blob URL of a classic script (a Content-Security-Policy must allow
 *   `worker-src blob:`), on a cross-origin-isolated page (SharedArrayBuffer). The main thread may
 *   not `Atomics.wait` and a worker cannot take messages synchronously, so: the worker starts only
 *   after the page's main thread yields and announces itself in the control block; registering a
 *   kernel posts a message that the worker takes on its own event loop (it leaves its spin loop
 *   when the control block says mail is waiting); until the worker is ready and has the kernel,
 *   `start()` returns false and the main thread runs every block. The main thread only ever waits
 *   (spinning) for a job the worker has claimed, which needs nothing from the main thread's event
 *   loop, so no deadlock is possible; the spin is bounded all the same (a worker killed mid-job).
 *
 * Where shared memory or workers are unavailable (a browser page without cross-origin isolation,
 * a CSP without `worker-src blob:`, no `worker_threads`), kernels run on one thread with the same
 * results (the split is by blocks: every element is computed by the same code either way), and
 * `threadsUnavailable()` says why.
 */
import { internalError } from "@chainrule/ir";
import type { WasmModule } from "./api.js";
import type { Arena } from "./arena.js";

type NodeWorker = {
  postMessage(message: unknown): void;
  unref(): void;
  terminate(): Promise<number>;
  on(event: "error" | "exit", listener: (e: unknown) => void): void;
  removeAllListeners(): void;
};
type WorkerThreads = {
  Worker: new (code: string, options: { eval: true; workerData: unknown; execArgv: string[] }) => NodeWorker;
};

/** The parts of a browser `Worker` used here. */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; preventDefault?: () => void }) => void) | null;
}
interface WebApis {
  Worker: new (url: string, options?: { name?: string }) => WebWorker;
  Blob: new (parts: string[], options: { type: string }) => unknown;
  createObjectURL(blob: unknown): string;
}

/** `node:worker_threads`, when this runtime has it (Node ≥ 20.16: `process.getBuiltinModule`). */
const workerThreads: WorkerThreads | undefined = (() => {
  try {
    const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
    return typeof get === "function" ? (get("node:worker_threads") as WorkerThreads | undefined) : undefined;
  } catch {
    return undefined;
  }
})();

/** Web Workers from Blob URLs (browsers), when there is no `worker_threads`. */
const webApis: WebApis | undefined = (() => {
  if (workerThreads !== undefined) return undefined;
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  const url = g.URL;
  if (typeof g.Worker !== "function" || typeof g.Blob !== "function" || typeof url?.createObjectURL !== "function") return undefined;
  return {
    Worker: g.Worker as WebApis["Worker"],
    Blob: g.Blob as WebApis["Blob"],
    createObjectURL: (blob) => (url.createObjectURL as (b: unknown) => string).call(url, blob),
  };
})();

// control block (Int32 indices)
const REQUEST = 0; // incremented by the main thread per command
const DONE = 1; // set to the request number by the worker when finished
const JOB = 2; // instance index, or −1: register (a message is waiting; Node)
const ARGS = 3; // kernel arguments a, b, c, scratch, then the b and c steps per block and the block count
const WORKER_SLEEPS = 10;
const MAIN_SLEEPS = 11;
const FAILED = 12;
const CLAIM = 13; // the posted request's number while unclaimed; −number once claimed (by either side)
const NEXT = 14; // the next block to take (both threads take blocks until none is left)
const TAKEN = 15; // blocks the worker ran of the request it last finished
const READY = 16; // browsers: 1 once the worker runs
const MAIL = 17; // browsers: messages posted to the worker
const MAIL_DONE = 18; // browsers: messages the worker has handled (in order)
const WAKE = 19; // browsers: bumped on every request and message (what a sleeping worker waits on)
const EXITED = 20; // Node: set by the worker when its thread exits (an uncaught error, process.exit)
/**
 * Microseconds a side spins before sleeping. Long enough that the worker is still awake when a
 * training loop's next step arrives (copies and JavaScript between steps): in the W3 MLP loop on
 * two threads, 100 µs let it fall asleep before each step (0.66 ms a step), 300–1000 µs did not
 * (0.61 ms).
 */
const SPIN_MICROSECONDS = 500;
/** A main thread waiting this long for a job the worker claimed gives up on the worker. */
export const LOST_AFTER_MS = 10_000;
/**
 * Node: a kernel registration waits this long for a worker that has not started yet (a worker
 * takes 0.1–0.8 s to start on a busy machine); after that the job runs on one thread, and later
 * jobs use the worker once it runs.
 */
export const START_WAIT_MS = 2_000;
/** Milliseconds a sleeping worker waits before looking again (no wait is unbounded). */
const WORKER_NAP_MS = 1_000;

/**
 * Claims the posted request inside a worker's loop (both workers: the same code): the main thread
 * may have claimed it first (then it runs the job itself, and the worker marks it done).
 */
const CLAIM_REQUEST = `
    seen = Atomics.load(ctl, ${REQUEST});
    if (Atomics.compareExchange(ctl, ${CLAIM}, seen, -seen) !== seen) {
      Atomics.store(ctl, ${DONE}, seen);
      continue;
    }
    const job = Atomics.load(ctl, ${JOB});
    let taken = 0;`;

/** Runs the blocks of the posted job `job` (both workers: the same code). */
const RUN_BLOCKS = `
      const f = kernels[job];
      const a = ctl[${ARGS}], b = ctl[${ARGS + 1}], c = ctl[${ARGS + 2}], s = ctl[${ARGS + 3}];
      const bStep = ctl[${ARGS + 4}], cStep = ctl[${ARGS + 5}], count = ctl[${ARGS + 6}];
      let i;
      while ((i = Atomics.add(ctl, ${NEXT}, 1)) < count) {
        f(a, b + i * bStep, c + i * cStep, s);
        taken++;
      }`;

export const NODE_WORKER_SOURCE = `
const { parentPort, workerData, receiveMessageOnPort } = process.getBuiltinModule("node:worker_threads");
const ctl = new Int32Array(workerData.control);
process.on("exit", () => {
  Atomics.store(ctl, ${EXITED}, 1);
  Atomics.notify(ctl, ${DONE});
});
Atomics.store(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
const kernels = [];
let seen = 0;
for (;;) {
  let started = performance.now();
  let spins = 0;
  while (Atomics.load(ctl, ${REQUEST}) === seen) {
    if ((++spins & 255) === 0 && performance.now() - started > ${SPIN_MICROSECONDS / 1000}) {
      Atomics.store(ctl, ${WORKER_SLEEPS}, 1);
      Atomics.wait(ctl, ${REQUEST}, seen, ${WORKER_NAP_MS});
      Atomics.store(ctl, ${WORKER_SLEEPS}, 0);
      started = performance.now();
    }
  }
${CLAIM_REQUEST}
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
    } else {${RUN_BLOCKS}
    }
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, ${TAKEN}, taken);
  Atomics.store(ctl, ${DONE}, seen);
  if (Atomics.load(ctl, ${MAIN_SLEEPS}) === 1) Atomics.notify(ctl, ${DONE});
}
`;

/**
 * The browser worker: messages (the control block first, then kernel registrations and drops in
 * order) are taken on its event loop; between them it serves jobs in a spin-then-wait loop that it
 * leaves whenever the control block says a message is waiting. It never waits for the main thread.
 */
const BROWSER_WORKER_SOURCE = `"use strict";
let ctl;
const kernels = [];
let seen = 0;
let handled = 0;
function serve() {
  for (;;) {
    let started = performance.now();
    let spins = 0;
    for (;;) {
      const wake = Atomics.load(ctl, ${WAKE});
      if (Atomics.load(ctl, ${MAIL}) !== handled) return; // take the messages on the event loop
      if (Atomics.load(ctl, ${REQUEST}) !== seen) break;
      if ((++spins & 255) === 0 && performance.now() - started > ${SPIN_MICROSECONDS / 1000}) {
        Atomics.store(ctl, ${WORKER_SLEEPS}, 1);
        Atomics.wait(ctl, ${WAKE}, wake, ${WORKER_NAP_MS});
        Atomics.store(ctl, ${WORKER_SLEEPS}, 0);
        started = performance.now();
      }
    }
${CLAIM_REQUEST}
    try {${RUN_BLOCKS}
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.store(ctl, ${TAKEN}, taken);
    Atomics.store(ctl, ${DONE}, seen);
  }
}
onmessage = (event) => {
  const m = event.data;
  if (m.control !== undefined) {
    ctl = new Int32Array(m.control);
    Atomics.store(ctl, ${READY}, 1);
    postMessage("ready");
  } else {
    try {
      if (m.drop !== undefined) kernels[m.drop] = undefined;
      else kernels[m.index] = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports[m.name];
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.store(ctl, ${MAIL_DONE}, ++handled);
  }
  if (Atomics.load(ctl, ${MAIL}) === handled) serve();
};
`;

/**
 * A kernel over `count` blocks: block i is `kernel(a, b + i·bStep, c + i·cStep, scratch)`. Both
 * threads take blocks from a shared counter, so a late or descheduled worker just takes fewer.
 */
export interface Job {
  /**
   * Posts the job to the worker; false when the worker is busy, or (browsers) not running yet or
   * not yet holding this kernel — then the caller runs every block.
   */
  start(): boolean;
  /** After a successful `start()`: the next block index for the main thread (≥ count: none left). */
  next(): number;
  /**
   * After `start()`: waits for the worker's blocks (bounded). True when every block is computed:
   * by the worker and the caller, or by the caller alone when the worker had not begun the job
   * (asleep, or descheduled on a busy machine: the job is withdrawn). False when the worker was
   * lost during the job (it exited or stopped responding): the caller runs every block again.
   */
  finish(): boolean;
}

/**
 * Jobs posted to the worker, how many of them it had not begun when the main thread took them
 * back, blocks the worker ran, and how many times the worker was replaced (to free collected
 * programs' memories).
 */
export const threadStats = { posted: 0, withdrawn: 0, workerBlocks: 0, restarts: 0 };

/** Collected programs whose kernels the worker still holds before it is replaced (freeing them). */
const RESTART_AFTER_DROPS = 16;

interface Held {
  index: number;
  generation: number;
  /** Browsers: the message number that registered the kernel (usable once the worker handled it). */
  mail: number;
}

export class ThreadPool {
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private worker: NodeWorker | undefined;
  private web: WebWorker | undefined;
  /** Browsers: the worker script's Blob URL (one per pool, reused by restarts). */
  private scriptUrl: string | undefined;
  /** Bumped each time a new worker starts; kernels registered with an older one re-register. */
  private generation = 0;
  private kernels = 0;
  private busy = false;
  private request = 0;
  private drops = 0;
  /** Browsers: messages posted to the current worker. */
  private mail = 0;
  /** Node: a registration already waited (START_WAIT_MS) for this worker to start. */
  private startWaited = false;
  private readonly waiters = new Set<(ok: boolean) => void>();
  /** Why the worker cannot be used (it failed to start, or stopped); undefined while usable. */
  failed: string | undefined;
  /**
   * A collected program's kernels are dropped by the worker too. The worker never allocates, so
   * its isolate never collects garbage: after a number of drops it is replaced (terminating it
   * frees the shared memories it held), and live jobs register again with the new one.
   */
  private readonly dropped = new FinalizationRegistry<Held>((held) => {
    if (held.index < 0 || held.generation !== this.generation || this.failed !== undefined) return;
    this.drops++;
    if (this.web !== undefined) this.sendMail({ drop: held.index });
    else this.worker?.postMessage({ drop: held.index });
  });

  /** A Web Worker (browsers), not a `worker_threads` worker. */
  private readonly browser: boolean;

  /** Throws when the worker cannot even be created (browsers: `new Worker` threw). */
  constructor(
    private readonly threads: WorkerThreads | undefined,
    private readonly webWorkers: WebApis | undefined,
    /** Node: how long a registration waits for the worker to start (tests shorten it). */
    private readonly startWaitMs = START_WAIT_MS,
  ) {
    this.browser = webWorkers !== undefined;
    this.startWorker();
  }

  private startWorker(): void {
    const control = new SharedArrayBuffer(128);
    this.ctl = new Int32Array(control);
    const generation = ++this.generation;
    this.kernels = 0;
    this.request = 0;
    this.drops = 0;
    this.mail = 0;
    this.startWaited = false;
    if (this.webWorkers !== undefined) {
      const web = this.webWorkers;
      this.scriptUrl ??= web.createObjectURL(new web.Blob([BROWSER_WORKER_SOURCE], { type: "text/javascript" }));
      const worker = new web.Worker(this.scriptUrl, { name: "chainrule-jit" });
      worker.onmessage = (e) => {
        if (generation === this.generation && e.data === "ready") this.settle(true);
      };
      worker.onerror = (e) => {
        e.preventDefault?.();
        if (generation !== this.generation) return;
        const ready = Atomics.load(this.ctl, READY) === 1;
        this.fail(
          ready
            ? `the worker thread failed${e.message ? ` (${e.message})` : ""}`
            : `the worker thread could not start${e.message ? ` (${e.message})` : ""}: workers from blob: URLs are refused ` +
                "(a Content-Security-Policy needs worker-src blob:)",
        );
      };
      worker.postMessage({ control });
      this.web = worker;
      return;
    }
    // no inherited flags: --input-type=module (or a script on stdin) would make the source a module
    const worker = new this.threads!.Worker(NODE_WORKER_SOURCE, { eval: true, workerData: { control }, execArgv: [] });
    worker.unref();
    worker.on("error", (e) => {
      if (generation === this.generation) this.fail(`the worker thread failed (${describeError(e)})`);
    });
    worker.on("exit", (code) => {
      if (generation === this.generation) this.fail(`the worker thread exited (exit code ${String(code)})`);
    });
    this.worker = worker;
  }

  /** Whether the worker runs now (it announced itself in the control block). */
  get ready(): boolean {
    return this.failed === undefined && Atomics.load(this.ctl, READY) === 1;
  }

  /** Resolves true once the worker runs, false if it fails or `timeoutMs` passes first. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.failed !== undefined) return Promise.resolve(false);
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      // the worker announces itself in the control block (Node's "online" event comes before its
      // code runs, so a worker whose code fails at once would look ready)
      const poll = setInterval(() => {
        if (this.failed !== undefined || this.ready) done(this.ready);
      }, 5);
      this.waiters.add(done);
    });
  }

  private settle(ok: boolean): void {
    for (const w of [...this.waiters]) w(ok);
  }

  /** Gives up on the worker for good (one thread from now on, same results). */
  private fail(reason: string): void {
    this.failed ??= reason;
    try {
      this.web?.terminate();
      void this.worker?.terminate();
    } catch {
      // already gone
    }
    this.settle(false);
  }

  /**
   * Waits until the worker has finished `request`, spinning, then (Node) sleeping in bounded
   * waits; false once the worker is lost (it exited, or stopped responding for LOST_AFTER_MS),
   * which fails the pool.
   */
  private wait(request: number): boolean {
    const ctl = this.ctl;
    const since = performance.now();
    let started = since;
    let spins = 0;
    for (let done = Atomics.load(ctl, DONE); done < request; done = Atomics.load(ctl, DONE)) {
      if ((++spins & 255) !== 0) continue;
      const now = performance.now();
      if (Atomics.load(ctl, EXITED) !== 0) {
        this.fail("the worker thread exited while it ran a job");
        return false;
      }
      if (now - since > LOST_AFTER_MS) {
        this.fail(`the worker thread stopped responding (a job it had claimed did not finish within ${LOST_AFTER_MS / 1000} s)`);
        return false;
      }
      // the main thread of a page may not Atomics.wait (it only spins)
      if (!this.browser && now - started > SPIN_MICROSECONDS / 1000) {
        Atomics.store(ctl, MAIN_SLEEPS, 1);
        Atomics.wait(ctl, DONE, done, 50);
        Atomics.store(ctl, MAIN_SLEEPS, 0);
        started = performance.now();
      }
    }
    if (Atomics.load(ctl, FAILED) !== 0) throw internalError("a WebAssembly kernel failed on the worker thread");
    return true;
  }

  /**
   * Node: whether the worker runs. The first registration of a worker waits up to `startWaitMs`
   * for it to start; later ones only look (a worker that never starts costs that wait once).
   */
  private started(): boolean {
    const ctl = this.ctl;
    if (Atomics.load(ctl, READY) === 1) return true;
    if (!this.startWaited) {
      this.startWaited = true;
      const since = performance.now();
      while (Atomics.load(ctl, READY) === 0 && Atomics.load(ctl, EXITED) === 0 && performance.now() - since < this.startWaitMs) {
        Atomics.wait(ctl, READY, 0, 20);
      }
    }
    if (Atomics.load(ctl, EXITED) !== 0) this.fail("the worker thread exited as it started");
    return this.failed === undefined && Atomics.load(ctl, READY) === 1;
  }

  private post(): number {
    const ctl = this.ctl;
    const request = ++this.request;
    Atomics.store(ctl, CLAIM, request);
    Atomics.store(ctl, REQUEST, request);
    if (this.browser) this.wake();
    else if (Atomics.load(ctl, WORKER_SLEEPS) === 1) Atomics.notify(ctl, REQUEST);
    return request;
  }

  /** Browsers: wakes a worker sleeping on WAKE (it re-reads REQUEST and MAIL). */
  private wake(): void {
    const ctl = this.ctl;
    Atomics.add(ctl, WAKE, 1);
    if (Atomics.load(ctl, WORKER_SLEEPS) === 1) Atomics.notify(ctl, WAKE);
  }

  /** Browsers: posts a message the worker takes on its event loop (it leaves its spin loop for it). */
  private sendMail(message: unknown): number {
    this.web!.postMessage(message);
    Atomics.store(this.ctl, MAIL, ++this.mail);
    this.wake();
    return this.mail;
  }

  /**
   * Instantiates `module`'s export `name` on `memory` in the worker. Node: waits for it.
   * Browsers: returns at once; the kernel is usable once the worker handled message `mail`.
   */
  private register(module: WasmModule, memory: Arena["memory"], name: string): Held {
    if (this.browser) {
      const index = this.kernels++;
      return { index, generation: this.generation, mail: this.sendMail({ module, memory, name, index }) };
    }
    // not started (yet), or lost while registering: index −1, the job runs on one thread
    if (!this.started()) return { index: -1, generation: this.generation, mail: 0 };
    const index = this.kernels++;
    this.worker!.postMessage({ module, memory, name, index });
    Atomics.store(this.ctl, JOB, -1);
    if (!this.wait(this.post())) return { index: -1, generation: this.generation, mail: 0 };
    return { index, generation: this.generation, mail: 0 };
  }

  /** A job running `module`'s export `name` on the arena's (shared) memory. */
  job(
    arena: Arena,
    module: WasmModule,
    name: string,
    args: readonly [a: number, b: number, c: number, scratch: number, bStep: number, cStep: number, count: number],
  ): Job {
    if (!arena.shared) throw internalError("threads need a shared memory");
    const browser = this.browser;
    if (this.drops >= RESTART_AFTER_DROPS && !this.busy && this.failed === undefined) {
      if (browser) this.web?.terminate();
      else void this.worker?.terminate();
      this.startWorker();
      threadStats.restarts++;
    }
    const held: Held = this.failed === undefined ? this.register(module, arena.memory, name) : { index: -1, generation: -1, mail: 0 };
    let request = 0;
    const job: Job = {
      start: () => {
        if (this.busy || this.failed !== undefined) return false;
        if (browser && Atomics.load(this.ctl, FAILED) !== 0) throw internalError("a WebAssembly kernel failed on the worker thread");
        // registered with an older worker, or not yet (the worker had not started): register now
        if (held.generation !== this.generation || held.index < 0) {
          if (!browser && Atomics.load(this.ctl, READY) === 0) return false;
          Object.assign(held, this.register(module, arena.memory, name));
          if (held.index < 0) return false;
        }
        // browsers: not before the worker runs and holds this kernel (the caller runs every block)
        if (browser && (Atomics.load(this.ctl, READY) === 0 || Atomics.load(this.ctl, MAIL_DONE) < held.mail)) return false;
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
            return true;
          }
          if (!this.wait(request)) return false;
          threadStats.workerBlocks += Atomics.load(this.ctl, TAKEN);
          return true;
        } finally {
          this.busy = false;
        }
      },
    };
    if (held.generation === this.generation) this.dropped.register(job, held);
    return job;
  }
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

let pool: ThreadPool | undefined | null = null;
/** Why creating the worker failed (browsers: `new Worker` threw), once it did. */
let creationFailure: string | undefined;

/** Why this runtime cannot run a second thread at all (before any worker is tried). */
function platformReason(): string | undefined {
  if (typeof SharedArrayBuffer !== "function") {
    return (globalThis as { crossOriginIsolated?: unknown }).crossOriginIsolated === false
      ? "SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with the headers " +
          "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)"
      : "SharedArrayBuffer is unavailable in this runtime";
  }
  if (workerThreads === undefined && webApis === undefined)
    return "no workers in this runtime (neither node:worker_threads nor Web Workers with Blob URLs)";
  return undefined;
}

/**
 * The process's (or page's) worker, created on first use; undefined without workers or shared
 * memory, or once the worker failed (programs compiled later use one thread).
 */
export function threadPool(): ThreadPool | undefined {
  if (pool === null) {
    if (platformReason() !== undefined || (workerThreads !== undefined && typeof Atomics.wait !== "function")) pool = undefined;
    else {
      try {
        pool = new ThreadPool(workerThreads, webApis);
      } catch (e) {
        creationFailure = `the worker thread could not be created (${describeError(e)})`;
        pool = undefined;
      }
    }
  }
  return pool === undefined || pool.failed !== undefined ? undefined : pool;
}

/** Why two threads are unavailable here, or undefined when they are possible (or running). */
export function threadsUnavailable(): string | undefined {
  return platformReason() ?? creationFailure ?? (pool ? pool.failed : undefined);
}

/** Whether two threads are possible here (workers and shared memory, and no worker failed). */
export function threadsAvailable(): boolean {
  return threadsUnavailable() === undefined;
}

/** Whether the worker runs now (it is created by the first two-thread program or `startThreads`). */
export function threadsReady(): boolean {
  return pool ? pool.ready : false;
}
