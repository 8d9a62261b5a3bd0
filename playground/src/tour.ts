/**
 * The guided tour of the seed, f(x, y) = (x + y)(x − y) at x = 3, y = 2 → f = 5, ∇f = (6, −4):
 * six short stops, each setting the page up (preset, mode, step) and saying what to look at.
 */
import { byId } from "./dom.js";
import type { Controller } from "./main.js";

interface Stop {
  readonly title: string;
  readonly text: string;
  readonly show: (c: Controller) => void;
}

const STOPS: readonly Stop[] = [
  {
    title: "1. A function as a graph",
    text:
      "f(x, y) = (x + y)(x − y) is three operations: a = x + y, b = x − y, f = a·b. At x = 3, y = 2 the graph shows " +
      "a = 5, b = 1 and f = 5. x and y are each used twice (fan-out).",
    show: (c) => {
      c.loadPreset("seed");
      c.setMode("forward");
    },
  },
  {
    title: "2. Forward mode: a tangent rides along",
    text:
      "Seeded with ∂/∂x, x carries tangent 1 and y tangent 0. Each node combines its inputs' tangents by the chain rule: " +
      "for a = x + y, ȧ = ∂a/∂x·ẋ + ∂a/∂y·ẏ = 1·1 + 1·0 = 1.",
    show: (c) => {
      c.setSeed(0);
      c.go(c.stepOf("a"));
    },
  },
  {
    title: "3. …to the output",
    text:
      "At f = a·b: ḟ = ∂f/∂a·ȧ + ∂f/∂b·ḃ = 1·1 + 5·1 = 6, so ∂f/∂x = 6. One forward pass gives one direction; " +
      "the ∂/∂y column (another pass) ends at −4.",
    show: (c) => c.go(c.stepOf("f")),
  },
  {
    title: "4. Reverse mode: adjoints flow back",
    text:
      "Reverse mode starts at the output with f̄ = 1 and sweeps backward. b̄ = f̄·∂f/∂b = 1·5 = 5: the edge into f from b " +
      "carries that contribution.",
    show: (c) => {
      c.setMode("reverse");
      c.go(c.stepOf("b"));
    },
  },
  {
    title: "5. Fan-out: one term per use",
    text:
      "x is used by a and by b, so its adjoint is the sum over both uses: x̄ = ā·∂a/∂x + b̄·∂b/∂x = 1·1 + 5·1 = 6. " +
      "Likewise ȳ = 1·1 + 5·(−1) = −4. One backward pass gave the whole gradient ∇f = (6, −4).",
    show: (c) => c.go(c.stepOf("x")),
  },
  {
    title: "6. Every engine agrees",
    text:
      "Forward, reverse and the JIT all give f = 5 and ∇f = (6, −4) (the table under the graph), and the JIT's generated " +
      "JavaScript is shown below it. Now type your own function, or try a preset.",
    show: (c) => {
      c.go(null);
      byId("engines-panel").scrollIntoView({ block: "nearest" });
    },
  },
];

let stop = 0;
let wired = false;

function render(c: Controller): void {
  const s = STOPS[stop]!;
  s.show(c);
  byId("tour-title").textContent = s.title;
  byId("tour-text").textContent = s.text;
  byId("tour-count").textContent = `${stop + 1} / ${STOPS.length}`;
  byId<HTMLButtonElement>("tour-back").disabled = stop === 0;
  const next = byId<HTMLButtonElement>("tour-next");
  next.textContent = stop === STOPS.length - 1 ? "Finish" : "Next";
}

function close(): void {
  byId("tour").hidden = true;
  byId("tour-start").focus();
}

/** Opens the tour at its first stop (keyboard: Next/Back/Close are buttons, Escape closes). */
export function startTour(c: Controller): void {
  const panel = byId("tour");
  if (!wired) {
    wired = true;
    byId("tour-next").addEventListener("click", () => {
      if (stop === STOPS.length - 1) return close();
      stop++;
      render(c);
    });
    byId("tour-back").addEventListener("click", () => {
      stop = Math.max(0, stop - 1);
      render(c);
    });
    byId("tour-close").addEventListener("click", close);
    panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") close();
    });
  }
  stop = 0;
  panel.hidden = false;
  render(c);
  byId("tour-next").focus();
}

export const TOUR_LENGTH = STOPS.length;
