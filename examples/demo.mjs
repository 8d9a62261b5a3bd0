// The seed example: f(x, y) = (x + y)(x − y) at (3, 2), evaluated eagerly with @chainrule/ir.
// Run from the repository root with `npm run demo` (no build needed: tsx loads the TypeScript
// sources through the "@chainrule/source" export condition). .ci/run checks that a line of the
// output ends in "= 5" (the seed value); keep such a line when growing this demo.
import { add, mul, sub } from "@chainrule/ir";

/** A Tensor (rank 0) or a JS number, as a JS number. */
const toNumber = (value) => (typeof value === "number" ? value : value.item());

const value = mul(add(3, 2), sub(3, 2));
console.log(`f(x, y) = (x + y)(x - y) at (3, 2) = ${toNumber(value)}`);
