import { grad } from "@chainrule/reverse";
import { add, mul, sub } from "@chainrule/ir";
console.log(JSON.stringify(grad((x: any, y: any) => mul(add(x, y), sub(x, y)), [0, 1])(3, 2)));
try { new Function("return 1"); console.log("eval allowed"); } catch (e) { console.log("eval blocked"); }
