// SPDX-License-Identifier: Apache-2.0
// The official v2 MCP client (@modelcontextprotocol/client) against bridle's session mode,
// configured as a user would (command: ssh, args: [..., "mcp"]), in each of its three
// version-negotiation modes. Run by tests/integration/mcp_session.sh inside its namespaces.
//
// usage: node client_v2.mjs MODE -- SSH_ARGS...
//   MODE legacy   the 2025 initialize handshake (the v2 client's default)
//        auto     server/discover on a throw-away ssh, then 2026-07-28 (or legacy fallback)
//        pinned   2026-07-28 only: server/discover must offer it
// Each mode: the negotiated revision, server identity, tools/list (order, schemas), an
// allowed command, a denial (a result, not a protocol error), a non-zero exit, an unknown
// tool (-32602), progress notifications (with the output's tail), a cancellation, and a
// quiet stderr.
// Prints "PASS name", "FAIL name: why" and "DATA key value" lines; exits 0 unless it crashed.
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import * as report from "./report.mjs";
import { check, count, fail, show, text, waitFor } from "./report.mjs";

const [mode, dashdash, ...sshArgs] = process.argv.slice(2);
if (!["legacy", "auto", "pinned"].includes(mode) || dashdash !== "--" || sshArgs.length === 0) {
  console.error("usage: node client_v2.mjs legacy|auto|pinned -- SSH_ARGS...");
  process.exit(2);
}
const negotiation = { legacy: { mode: "legacy" }, auto: { mode: "auto" }, pinned: { mode: { pin: "2026-07-28" } } }[mode];
const wantVersion = mode === "legacy" ? "2025-11-25" : "2026-07-28";

const data = (key, value) => report.data(`v2_${mode}_${key}`, value); // one namespace per mode

async function main() {
  const transport = new StdioClientTransport({ command: "ssh", args: [...sshArgs, "mcp"], stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: `bridle-test-v2-${mode}`, version: "1.0.0" }, { versionNegotiation: negotiation });
  const t0 = process.hrtime.bigint();
  await client.connect(transport);
  data("connect_ms", Number(process.hrtime.bigint() - t0) / 1e6);

  check("negotiated-version", client.getNegotiatedProtocolVersion() === wantVersion, client.getNegotiatedProtocolVersion());
  check("era", client.getProtocolEra() === (mode === "legacy" ? "legacy" : "modern"), client.getProtocolEra());
  check("server-name", client.getServerVersion()?.name === "bridle", show(client.getServerVersion()));
  check("tools-capability", client.getServerCapabilities()?.tools !== undefined, show(client.getServerCapabilities()));
  check("instructions", /list_allowed_commands/.test(client.getInstructions() ?? ""), client.getInstructions());
  if (mode !== "legacy") {
    const discover = client.getDiscoverResult();
    check("discover.versions", show(discover?.supportedVersions) === show(["2026-07-28", "2025-11-25", "2025-06-18"]), show(discover));
  }

  // tools/list: the three tools, always in this order.
  const { tools } = await client.listTools();
  check("tools-list.order", show(tools.map((t) => t.name)) === show(["run_command", "list_allowed_commands", "check_command", "read_file", "write_file", "get_task", "get_task_output", "cancel_task", "wait_for_approval"]), show(tools.map((t) => t.name)));
  check("tools-list.run-schema", tools[0]?.inputSchema?.type === "object" && tools[0]?.outputSchema !== undefined, show(tools[0]));

  // An allowed command: a result with structured content (validated against outputSchema).
  let r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "hello"] } });
  check("allowed.stdout", r.structuredContent?.status === "ok" && r.structuredContent?.stdout === "hello\n" && r.isError === false, show(r));
  check("allowed.text", text(r).startsWith("hello\n"), text(r));
  data("allowed_request_id", r.structuredContent?.request_id);

  // A denial: a tool result with isError, the reason and the nearest usage; never a protocol error.
  r = await client.callTool({ name: "run_command", arguments: { command: "echo HELLO" } });
  check("denied.result", r.isError === true && r.structuredContent?.status === "denied" && text(r).includes("echo WORD"), show(r));
  data("denied_request_id", r.structuredContent?.request_id);
  r = await client.callTool({ name: "run_command", arguments: { command: "touch /mnt/bridle/scratch/pwned-v2" } });
  check("denied.touch", r.isError === true && r.structuredContent?.status === "denied", show(r));

  // A non-zero exit is a result, not a tool error.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["false"] } });
  check("nonzero", r.isError === false && r.structuredContent?.status === "exit_nonzero", show(r));

  // check_command and list_allowed_commands through the same revision.
  r = await client.callTool({ name: "check_command", arguments: { command: "echo hi" } });
  check("check.allow", r.structuredContent?.decision === "allow", show(r));
  r = await client.callTool({ name: "list_allowed_commands", arguments: {} });
  check("list.has-echo", (r.structuredContent?.rules ?? []).some((x) => x.id === "echo-word"), show(r.structuredContent));

  // An unknown tool is a protocol error (-32602).
  try {
    await client.callTool({ name: "rm_rf", arguments: {} });
    fail("unknown-tool", "no error");
  } catch (e) {
    check("unknown-tool", e.code === -32602 && /Unknown tool/.test(e.message), `${e.code} ${e.message}`);
  }

  // Progress notifications while a command runs.
  const progress = [];
  r = await client.callTool({ name: "run_command", arguments: { argv: ["sleep", "3"] } }, { onprogress: (p) => progress.push(p), timeout: 30000 });
  check("progress.result", r.structuredContent?.status === "ok", show(r));
  check("progress.notifications", progress.length >= 2 && progress.every((p, i) => i === 0 || p.progress > progress[i - 1].progress), show(progress));
  // ... they carry the end of the output so far (the first line, while the command waits),
  // and a client that resets its timeout on progress outlasts its own 1.8 s timeout.
  const ticks = [];
  r = await client.callTool({ name: "run_command", arguments: { argv: ["ticker", "-c", "echo tick-one; sleep 3; echo tick-two"] } },
    { onprogress: (p) => ticks.push(p), timeout: 1800, resetTimeoutOnProgress: true });
  check("progress.tail.result", r.structuredContent?.stdout === "tick-one\ntick-two\n", show(r));
  check("progress.tail.message", ticks.some((p) => /output so far ends: tick-one$/.test(p.message ?? "")), show(ticks));

  // Cancellation: the command is killed and the session goes on.
  const controller = new AbortController();
  const pending = client.callTool({ name: "run_command", arguments: { argv: ["sleep", "587"] } }, { signal: controller.signal, timeout: 60000 });
  pending.catch(() => {});
  if (await waitFor(() => count("sleep 587") === 1, 10)) {
    controller.abort("test cancels");
    check("cancel.killed", await waitFor(() => count("sleep 587") === 0, 10), "sleep 587 still running 10 s after the cancellation");
  } else {
    fail("cancel.started", "sleep 587 did not start");
  }
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "after"] } });
  check("cancel.session-continues", r.structuredContent?.stdout === "after\n", show(r));

  await client.close();
  check("stderr-quiet", stderr.trim() === "", stderr);
}

try {
  await main();
} catch (e) {
  fail("crashed", e?.stack ?? e);
}
process.exit(0);
