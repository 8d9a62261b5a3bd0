#!/usr/bin/env bash
# The release, rehearsed: in a copy of the work tree, `changeset version` applies the pending
# changesets, then every package is built, `pnpm publish -r --dry-run` runs, and each package is
# packed and its tarball inspected. Checks that the fixed group moved every published package to
# one version, that each tarball carries LICENSE, README.md, CHANGELOG.md and dist, and that its
# manifest has real ranges with @chainrule/ir as a peer. Nothing is published and nothing in the
# real work tree changes. Run by .ci/run; by hand: `bash .ci/release-dry-run.sh` with the pinned
# pnpm on PATH (export PATH="$(node scripts/setup.mjs --no-install --print-path)").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COPY=$(mktemp -d "${TMPDIR:-/tmp}/chainrule-release.XXXXXX")
trap 'rm -rf "$COPY"' EXIT

git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$COPY" 2>/dev/null || true
cd "$COPY"
pnpm install --frozen-lockfile --offline --reporter=silent </dev/null >/dev/null 2>&1 ||
  pnpm install --frozen-lockfile --reporter=silent </dev/null
changeset version </dev/null
pnpm -r --reporter=append-only run build </dev/null >build.log 2>&1 || { cat build.log; exit 1; }

node -e '
  const { readFileSync } = require("fs");
  const dirs = ["packages/ir", "packages/forward", "packages/reverse", "packages/jit", "packages/wasm", "packages/optim", "packages/cli", "conformance"];
  const versions = new Set(dirs.map((d) => JSON.parse(readFileSync(d + "/package.json", "utf8")).version));
  if (versions.size !== 1) throw new Error("release: expected one version for the fixed group, got " + [...versions].join(", "));
  console.log("release: changeset version moved all " + dirs.length + " packages to " + [...versions][0]);
'

pnpm publish -r --dry-run --no-git-checks --access public </dev/null 2>&1 | tee publish.log
for name in ir forward reverse jit optim cli conformance; do
  grep -q "@chainrule/$name@" publish.log || { echo "release: the dry run did not publish @chainrule/$name"; exit 1; }
done

# What npm would get: each tarball has the licence, README, changelog and build, and its manifest
# has real version ranges (no workspace: protocol) with @chainrule/ir as a peer.
mkdir -p packs
for dir in packages/ir packages/forward packages/reverse packages/jit packages/wasm packages/optim packages/cli conformance; do
  (cd "$dir" && pnpm pack --pack-destination "$COPY/packs" </dev/null >/dev/null)
done
for tarball in packs/*.tgz; do
  files=$(tar -tzf "$tarball")
  for f in package/LICENSE package/README.md package/CHANGELOG.md package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$f" <<<"$files" || { echo "release: $tarball lacks $f"; exit 1; }
  done
  manifest=$(tar -xzOf "$tarball" package/package.json)
  if grep -q '"workspace:' <<<"$manifest"; then echo "release: $tarball still has workspace: ranges"; exit 1; fi
  case "$tarball" in
    *chainrule-ir-*) ;;
    *) node -e 'const m = JSON.parse(process.argv[1]); if (!m.peerDependencies?.["@chainrule/ir"]) process.exit(1)' "$manifest" ||
      { echo "release: $tarball lacks the @chainrule/ir peer dependency"; exit 1; } ;;
  esac
done
echo "release: dry run ok ($(ls packs | tr '\n' ' '))"
