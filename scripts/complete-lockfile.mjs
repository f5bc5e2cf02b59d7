// The package registry this project builds against does not mirror every platform binary of
// @biomejs/biome (darwin, win32, android, musl builds answer 404), so `npm install` leaves them
// out of package-lock.json, and `npm ci` then refuses the lock as out of sync. They are optional
// and never installed on this platform: this records them in the lock the way npm would, with
// their os/cpu/libc, so `npm ci` accepts it. Runs after every `npm install` (postinstall).
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages ?? {};

function platformOf(name) {
  const m = /cli-(android|darwin|linux|win32)-(arm64|x64)(-musl)?$/.exec(name);
  if (!m) return undefined;
  return { os: [m[1]], cpu: [m[2]], ...(m[1] === "linux" ? { libc: [m[3] ? "musl" : "glibc"] } : {}) };
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (!dep.startsWith("@biomejs/cli-")) continue;
    const key = `node_modules/${dep}`;
    if (packages[key]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    packages[key] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
      license: entry.license,
    };
    added++;
  }
  void path;
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
  );
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(
    `package-lock.json: recorded ${added} optional platform package(s) the registry does not serve`,
  );
}
