/** Every implementation the harness knows, loaded (or listed as absent with the reason). */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { handWritten, handWrittenReuse, handWrittenUnrolled } from "./impls/hand.js";
import {
  discoverEngines,
  eagerIr,
  engineImplementation,
  imperativeImplementation,
  jitDonating,
  onWasmBackend,
  withoutFusion,
  type EnginePackage,
} from "./impls/chainrule.js";
import { jitKernelImplementations } from "./impls/jit-kernels.js";
import { loadTfjs, type TfBackend } from "./impls/tfjs.js";
import { loadJax } from "./impls/jax.js";
import type { Implementation } from "./workloads.js";

export interface Absent {
  readonly id: string;
  readonly label: string;
  readonly reason: string;
}

export interface Loaded {
  readonly implementations: Implementation[];
  readonly absent: Absent[];
  readonly engines: EnginePackage[];
  /** Package name → version, for the report. */
  readonly versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** The installed version of a dependency of bench (read from its package.json). */
export function installedVersion(name: string): string | undefined {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version;
  } catch {
    // some packages do not export ./package.json: walk from the entry point
    try {
      let dir = require.resolve(name);
      for (let i = 0; i < 6; i++) {
        dir = dir.slice(0, dir.lastIndexOf("/"));
        try {
          const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { name?: string; version?: string };
          if (pkg.name === name) return pkg.version;
        } catch {
          // keep walking up
        }
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
}

/**
 * Loads the implementations whose id passes `wanted` (all by default). Ids: hand, hand-unrolled,
 * eager, forward, reverse, jit, jit-1t, jit-2t (jit-fma-1t, jit-fma-2t instead where relaxed-SIMD
 * FMA is in effect in this process: see impls/jit-kernels.ts), tfjs-cpu, tfjs-wasm, jax, jax-jit.
 */
export async function loadImplementations(wanted: (id: string) => boolean = () => true): Promise<Loaded> {
  const implementations: Implementation[] = [];
  const absent: Absent[] = [];
  const versions: Record<string, string> = {};
  for (const impl of [handWritten, handWrittenUnrolled, handWrittenReuse, eagerIr]) if (wanted(impl.id)) implementations.push(impl);
  const irVersion = installedVersion("@chainrule/ir");
  if (irVersion !== undefined) versions["@chainrule/ir"] = irVersion;

  const engines = await discoverEngines();
  for (const pkg of engines) {
    if (!wanted(pkg.id)) continue;
    if (pkg.engine === undefined) {
      absent.push({ id: pkg.id, label: `chainrule ${pkg.id}`, reason: pkg.absent ?? "not loaded" });
      continue;
    }
    if (pkg.version !== undefined) versions[pkg.packageName] = pkg.version;
    implementations.push(engineImplementation({ ...pkg, engine: pkg.engine }));
  }
  // the reverse package's imperative API (W3), and eager ir, forward, reverse and imperative on @chainrule/wasm's backend (ids …-wasm)
  const imperative = engines.flatMap((p) => imperativeImplementation(p) ?? []);
  if (wanted("imperative")) implementations.push(...imperative);
  const onKernels = [
    eagerIr,
    ...engines.flatMap((p) => (p.engine && p.id !== "jit" ? [engineImplementation({ ...p, engine: p.engine })] : [])),
    ...imperative,
  ];
  for (const impl of onKernels) {
    const wasm = wanted(`${impl.id}-wasm`) ? onWasmBackend(impl) : undefined;
    if (wasm !== undefined) implementations.push(wasm);
  }
  // the eager engines with ir's elementwise fusion off (ids …-unfused): what fusion buys
  for (const impl of onKernels) if (impl.id !== "eager" && wanted(`${impl.id}-unfused`)) implementations.push(withoutFusion(impl));
  // the jit's W2 gradient into a donated output buffer (against hand-reuse)
  const jitPkg = engines.find((p) => p.id === "jit" && p.engine !== undefined);
  const donating = jitPkg && wanted("jit-donate") ? jitDonating({ ...jitPkg, engine: jitPkg.engine! }) : undefined;
  if (donating !== undefined) implementations.push(donating);
  // the jit's WebAssembly kernels with explicit settings (after the engines: W3/W4 only)
  for (const pkg of engines) {
    if (pkg.engine === undefined) continue;
    implementations.push(...jitKernelImplementations({ ...pkg, engine: pkg.engine }).filter((i) => wanted(i.id)));
  }

  const backends = (["cpu", "wasm"] as TfBackend[]).filter((b) => wanted(`tfjs-${b}`));
  if (backends.length > 0) {
    const tf = await loadTfjs(backends);
    implementations.push(...tf.implementations);
    absent.push(...tf.absent);
    for (const name of ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm"]) {
      const v = installedVersion(name);
      if (v !== undefined) versions[name] = v;
    }
  }
  if (wanted("jax") || wanted("jax-jit")) {
    const version = installedVersion("@jax-js/jax");
    const jax = await loadJax(version);
    implementations.push(...jax.implementations.filter((i) => wanted(i.id)));
    absent.push(...jax.absent.filter((a) => wanted(a.id)));
    if (version !== undefined) versions["@jax-js/jax"] = version;
  }
  return { implementations, absent, engines, versions };
}
