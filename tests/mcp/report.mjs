// SPDX-License-Identifier: Apache-2.0
// What the MCP test clients (client.mjs, client_v2.mjs) share: the PASS/FAIL/DATA lines that
// tests/integration/mcp_session.sh counts, and waiting for processes in the test's namespace.
import { execFileSync } from "node:child_process";

export const show = (v) => JSON.stringify(v)?.slice(0, 600);
export const pass = (name) => console.log(`PASS ${name}`);
export const fail = (name, why) => console.log(`FAIL ${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 1500)}`);
export const check = (name, ok, why) => (ok ? pass(name) : fail(name, why));
export const data = (key, value) => console.log(`DATA ${key} ${value}`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const text = (result) => (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("");

// Processes whose whole command line is `cmdline` (the clients run in the test's PID namespace).
export function count(cmdline) {
  try {
    return execFileSync("pgrep", ["-f", "-x", cmdline], { encoding: "utf8" }).trim().split("\n").filter(Boolean).length;
  } catch {
    return 0; // pgrep exits 1 when nothing matches
  }
}
export async function waitFor(what, seconds) {
  for (let i = 0; i < seconds * 10; i++) {
    if (what()) return true;
    await sleep(100);
  }
  return what();
}
