// Generated from package.json by scripts/write-version.mjs (run by `build` and `npm run version-packages`).
export const VERSION: string = "0.0.0";
