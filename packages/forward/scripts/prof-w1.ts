import { add, mul, sub, type TensorLike } from "@chainrule/ir";
import { engine } from "../src/index.js";
const f = (x: TensorLike, y: TensorLike) => mul(add(x, y), sub(x, y));
const g = engine.grad(f, [0, 1]);
for (let i = 0; i < 2_000_000; i++) g(3, 2);
