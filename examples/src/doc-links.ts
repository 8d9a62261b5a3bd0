/**
 * Link checks for the Markdown pages. A package README ships on npm, where only the package's own
 * files exist: its links must be absolute URLs or files inside the package that ship in the
 * tarball. Links to the repository (https://github.com/chainrule/chainrule/blob/main/…) must name
 * files that exist, and an #anchor into a Markdown file must name one of its headings.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";

export const REPO_URL = "https://github.com/chainrule/chainrule";

/** The link targets of a Markdown text (inline links, images, reference definitions), outside code. */
export function markdownLinks(markdown: string): string[] {
  const prose = markdown
    .replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, "")
    .replace(/(`+)[^`]*?\1/g, "")
    .replace(/<!--[\s\S]*?-->/g, "");
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors of a Markdown file's headings. */
function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => headingSlug(m[1]!)));
}

/** Problems with a link to `file` (a path that exists or not) and its optional anchor. */
function targetProblem(file: string, anchor: string | undefined, shown: string): string | undefined {
  if (!existsSync(file)) return `${shown}: no such file`;
  if (anchor !== undefined && file.endsWith(".md") && statSync(file).isFile() && !anchors(file).has(anchor)) {
    return `${shown}: no heading with the anchor #${anchor}`;
  }
  return undefined;
}

export interface LinkOptions {
  /** The repository's root folder (repository URLs are checked against it). */
  readonly root: string;
  /**
   * For a README that ships on npm: the package folder and the names its tarball carries at the
   * top level (package.json `files`, plus package.json, README.md, LICENSE, CHANGELOG.md).
   */
  readonly shipped?: { readonly dir: string; readonly files: readonly string[] };
}

/** Every broken link of the Markdown file `page`, as a message naming the link. */
export function linkProblems(page: string, options: LinkOptions): string[] {
  const problems: string[] = [];
  const here = join(page, "..");
  for (const link of markdownLinks(readFileSync(page, "utf8"))) {
    const [path = "", anchor] = link.split("#", 2) as [string, string | undefined];
    const repoFile = new RegExp(`^${REPO_URL.replace(/\./g, "\\.")}/(?:blob|tree)/main/(.*)$`).exec(path);
    if (repoFile) {
      const problem = targetProblem(join(options.root, decodeURIComponent(repoFile[1]!)), anchor, link);
      if (problem) problems.push(problem);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(path)) continue; // another site, mailto:
    if (path === "") {
      const problem = targetProblem(page, anchor, link);
      if (problem) problems.push(problem);
      continue;
    }
    if (isAbsolute(path)) {
      problems.push(`${link}: an absolute path works nowhere; use a relative link or ${REPO_URL}/blob/main/…`);
      continue;
    }
    const target = resolve(here, decodeURIComponent(path));
    if (options.shipped) {
      const { dir, files } = options.shipped;
      if (!target.startsWith(dir + sep)) {
        const inRepo = relative(options.root, target).split(sep).join("/");
        problems.push(`${link}: leaves the package folder, so it breaks on npm; link ${REPO_URL}/blob/main/${inRepo} instead`);
        continue;
      }
      const top = relative(dir, target).split(sep)[0]!;
      if (!files.includes(top)) {
        problems.push(`${link}: ${top} is not in the package's tarball (package.json "files")`);
        continue;
      }
    }
    const problem = targetProblem(target, anchor, link);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** What a package's tarball carries at its top level: package.json `files` and the files npm always adds. */
export function shippedFiles(packageDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { files?: string[] };
  return [...(manifest.files ?? []), "package.json", "README.md", "LICENSE", "CHANGELOG.md"];
}
