/**
 * One copy of @chainrule/ir per process. Two copies (say 0.2.0 at the top level and 0.1.0 nested
 * under an engine) make every tensor and tracer of one foreign to the other, which otherwise shows
 * up as puzzling errors such as "add: expected a number, … got reverse tracer f64[]".
 *
 * Each copy registers itself on `globalThis` under `Symbol.for("@chainrule/ir")` when it loads.
 * When a different copy (another version, or the same version from another folder) registers,
 * every registered copy is told, and from then on the first op, tensor creation or transformation
 * of any of them throws one `DuplicateIrError` naming the copies and how to keep one. The cost on
 * hot paths is one module-level boolean test. The same file evaluated again (a test runner's
 * module isolation, `vi.resetModules`, hot reload) registers the same version from the same
 * folder: that is the same copy, and tolerated.
 *
 * Every version ever published shares the registry, so its shape is fixed for good:
 * `{ copies: { version: string; location: string | undefined; conflict(): void }[] }`.
 */
import { DuplicateIrError } from "./errors.js";
import { VERSION } from "./version.js";

/** One loaded copy: its version, the folder of its code (if known) and how to tell it about a conflict. */
export interface CopyRecord {
  readonly version: string;
  readonly location: string | undefined;
  readonly conflict: () => void;
}

export interface CopyRegistry {
  readonly copies: CopyRecord[];
}

const REGISTRY_KEY: unique symbol = Symbol.for("@chainrule/ir");

function sameCopy(a: CopyRecord, b: CopyRecord): boolean {
  return a.version === b.version && a.location === b.location;
}

function isRegistry(value: unknown): value is CopyRegistry {
  return typeof value === "object" && value !== null && Array.isArray((value as { copies?: unknown }).copies);
}

/**
 * Adds `self` to the registry held by `holder` (normally `globalThis`), creating it if needed.
 * If a different copy is already there, every copy's `conflict` is called (the new one's too).
 */
export function registerCopy(holder: object, self: CopyRecord): CopyRegistry {
  const slot = holder as { [REGISTRY_KEY]?: unknown };
  const existing = slot[REGISTRY_KEY];
  const registry: CopyRegistry = isRegistry(existing) ? existing : { copies: [] };
  if (registry !== existing) slot[REGISTRY_KEY] = registry;
  const another = registry.copies.some((c) => !sameCopy(c, self));
  registry.copies.push(self);
  if (another) for (const c of registry.copies) c.conflict();
  return registry;
}

/** The folder of a module URL, as a file path for `file:` URLs (query and hash dropped); undefined if unknown. */
export function folderOf(moduleUrl: unknown): string | undefined {
  if (typeof moduleUrl !== "string") return undefined;
  try {
    const folder = new URL(".", moduleUrl.replace(/[?#].*$/, ""));
    if (folder.protocol !== "file:") return folder.href;
    const path = decodeURIComponent(folder.pathname).replace(/\/$/, "");
    return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path; // "/C:/x" on Windows is "C:/x"
  } catch {
    return undefined;
  }
}

const COUNTS = ["no", "one", "two", "three", "four", "five"];

/** The error every copy throws once a conflict is known; `self` is the copy throwing it. */
export function duplicateIrError(op: string, copies: readonly CopyRecord[], self: CopyRecord): DuplicateIrError {
  const distinct = copies.filter((c, i) => copies.findIndex((d) => sameCopy(c, d)) === i);
  const described = distinct.map(
    (c) => `${c.version} at ${c.location ?? "an unknown location"}${sameCopy(c, self) ? " (this error comes from it)" : ""}`,
  );
  return new DuplicateIrError(
    `${op}: expected one copy of @chainrule/ir in this process, got ${COUNTS[distinct.length] ?? distinct.length}: ` +
      `${described.join("; ")}. A tensor or tracer of one copy is foreign to the others, so every chainrule package ` +
      "must share one. Run `npm ls @chainrule/ir` to see which package brings which copy, make @chainrule/ir a single " +
      "top-level dependency at a version every @chainrule package accepts (they list it as a peer dependency), " +
      "then run `npm dedupe` (or `pnpm dedupe`, `yarn dedupe`).",
  );
}

let conflicting = false;

const thisCopy: CopyRecord = {
  version: VERSION,
  location: folderOf(import.meta.url),
  conflict: () => {
    conflicting = true;
  },
};

const registry = registerCopy(globalThis, thisCopy);

/**
 * Throws a `DuplicateIrError` if another copy of @chainrule/ir is loaded in this process; `op`
 * names the operation for the message. One boolean test otherwise: cheap enough for every op.
 */
export function checkOneCopy(op: string): void {
  if (conflicting) throw duplicateIrError(op, registry.copies, thisCopy);
}
