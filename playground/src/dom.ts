/** Small DOM helpers: elements built with text content only (user input never becomes markup). */

/** The element with `id`, which index.html must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`playground: expected an element #${id} in index.html, got none`);
  return element as T;
}

type Attributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** `<tag attrs>children</tag>`; strings become text nodes. A `false`/`undefined` attribute is left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children);
  return element;
}

/** A table: caption, a header row of `th scope=col`, then body rows (built by the caller). */
export function fillTable(table: HTMLTableElement, caption: string, header: readonly string[], rows: readonly HTMLTableRowElement[]): void {
  const head = h("thead", {}, h("tr", {}, ...header.map((text) => h("th", { scope: "col" }, text))));
  table.replaceChildren(h("caption", {}, caption), head, h("tbody", {}, ...rows));
}
