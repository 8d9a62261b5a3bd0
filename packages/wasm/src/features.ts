/**
 * What the host's WebAssembly supports, detected once at run time by validating tiny modules:
 * SIMD (f32x4/f64x2), relaxed-SIMD fused multiply-add (behind a flag in Node 20), and shared
 * memory for threads (needs SharedArrayBuffer: in browsers, a cross-origin-isolated page).
 */
import { wasmApi } from "./api.js";
import { encodeModule, type FuncDef } from "./module.js";

export interface WasmFeatures {
  /** WebAssembly with 128-bit SIMD is available (and code generation is allowed). */
  readonly simd: boolean;
  /** `f32x4.relaxed_madd` / `f64x2.relaxed_madd` validate. */
  readonly relaxedFma: boolean;
  /** A shared `WebAssembly.Memory` can be created (threads possible). */
  readonly sharedMemory: boolean;
}

/** Why the first probe that validated could not be compiled (a CSP refusing WebAssembly). */
let compileRefusal: string | undefined;

function validates(funcs: FuncDef[], shared = false): boolean {
  if (wasmApi === undefined) return false;
  let bytes: Uint8Array;
  try {
    bytes = encodeModule({ memory: shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1 }, funcs });
    if (!wasmApi.validate(bytes)) return false;
  } catch {
    return false;
  }
  try {
    // compiling also proves code generation is allowed (CSP `wasm-unsafe-eval`)
    new wasmApi.Module(bytes);
    return true;
  } catch (e) {
    compileRefusal ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return false;
  }
}

const probe = (op: "f32x4.relaxed_madd" | "f32x4.add"): FuncDef => ({
  name: "probe",
  params: ["i32"],
  results: [],
  locals: [],
  body: [
    ["local.get", 0],
    ["local.get", 0],
    ["v128.load", 0, 4],
    ["local.get", 0],
    ["v128.load", 16, 4],
    ...(op === "f32x4.add"
      ? []
      : ([
          ["local.get", 0],
          ["v128.load", 32, 4],
        ] as const)),
    [op],
    ["v128.store", 0, 4],
  ],
});

let detected: WasmFeatures | undefined;
let unavailable: string | undefined;

/** Detected once; `override` lets tests force a feature off (never on). */
export function wasmFeatures(): WasmFeatures {
  if (detected === undefined) {
    const simd = validates([probe("f32x4.add")]);
    let sharedMemory = false;
    if (simd && typeof SharedArrayBuffer === "function") {
      try {
        const memory = new wasmApi!.Memory({ initial: 1, maximum: 1, shared: true });
        sharedMemory = memory.buffer instanceof SharedArrayBuffer && validates([probe("f32x4.add")], true);
      } catch {
        sharedMemory = false;
      }
    }
    detected = { simd, relaxedFma: simd && validates([probe("f32x4.relaxed_madd")]), sharedMemory };
    if (!simd) {
      unavailable =
        wasmApi === undefined
          ? "no WebAssembly in this runtime (V8 in jitless mode, e.g. node --jitless or a browser lockdown mode, has none)"
          : compileRefusal !== undefined
            ? `compiling WebAssembly was refused (${compileRefusal}): a Content-Security-Policy must allow 'wasm-unsafe-eval'`
            : "this WebAssembly has no 128-bit SIMD";
    }
  }
  return detected;
}

/** Why the kernels are unavailable here (no WebAssembly, compilation refused, no SIMD), or undefined. */
export function kernelsUnavailable(): string | undefined {
  wasmFeatures();
  return unavailable;
}
