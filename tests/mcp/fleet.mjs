// SPDX-License-Identifier: Apache-2.0
// The official MCP TypeScript SDK (v1 Client, StdioClientTransport) as the agent of the fleet
// controller, configured as a user would (`claude mcp add fleet -- bridle fleet mcp -i INV`).
// Run by tests/integration/fleet.sh inside its namespaces, against its six hosts.
//
// usage: node fleet.mjs -- BRIDLE_FLEET_MCP_ARGV...
// Prints "PASS name", "FAIL name: why" and "DATA key value" lines; exits 0 unless it crashed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { execFileSync } from "node:child_process";
import { check, count, data, show, sleep, text, waitFor } from "./report.mjs";

const [dashdash, command, ...args] = process.argv.slice(2);
if (dashdash !== "--" || !command) {
  console.error("usage: node fleet.mjs -- BRIDLE fleet mcp -i INVENTORY ...");
  process.exit(2);
}
const statuses = (r) => (r.structuredContent?.hosts ?? []).map((h) => `${h.host}=${h.status}`).join(" ");

async function main() {
  const transport = new StdioClientTransport({ command, args, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: "bridle-fleet-test", version: "1.0.0" });
  await client.connect(transport);
  check("handshake.server", client.getServerVersion()?.name === "bridle-fleet", show(client.getServerVersion()));

  const { tools } = await client.listTools();
  check("tools-list.names", show(tools.map((t) => t.name).sort()) ===
    show(["cancel_task", "check_command", "get_task", "get_task_output", "list_allowed_commands", "list_hosts", "read_file", "run_command", "write_file"]),
    show(tools.map((t) => t.name)));

  // list_hosts: groups, reachability, the host's bridle version; never an address or a key.
  let r = await client.callTool({ name: "list_hosts", arguments: {} });
  const hosts = Object.fromEntries((r.structuredContent?.hosts ?? []).map((h) => [h.host, h]));
  check("list-hosts.reachable", hosts.web1?.reachable === true && hosts.db1?.reachable === true && hosts["db-down"]?.reachable === false, show(r.structuredContent));
  check("list-hosts.version", /^\d+\.\d+\.\d+$/.test(hosts.web1?.bridle_version ?? ""), show(hosts.web1));
  check("list-hosts.groups", show(hosts.db1?.groups) === show(["db"]), show(hosts.db1));
  check("list-hosts.no-address-or-key", !/10\.231\.|key-fleet/.test(JSON.stringify(r)), show(r));

  // run_command on a group, with per-host progress.
  const progress = [];
  r = await client.callTool({ name: "run_command", arguments: { group: "web", argv: ["echo", "hello"] } },
    undefined, { onprogress: (p) => progress.push(p), timeout: 60000 });
  check("run.web.statuses", statuses(r) === "web1=ok web2=ok web3=ok", show(r.structuredContent));
  check("run.web.stdout", r.structuredContent?.hosts?.every((h) => h.stdout === "hello\n"), show(r.structuredContent));
  check("run.web.summary", r.structuredContent?.summary?.ok === 3 && r.structuredContent?.summary?.hosts === 3, show(r.structuredContent?.summary));
  // The SDK hands notifications to their handler a microtask later (Protocol._onnotification:
  // Promise.resolve().then) but a response at once: a last progress written just before the
  // result can reach a handler already removed. So: at least one, each of 3, in order.
  check("run.web.progress", progress.length >= 1 && progress.every((p, i) => p.total === 3 && p.progress === i + 1) &&
    progress.every((p) => /^web[123]: ok$/.test(p.message)), show(progress));
  data("web_fanout", r.structuredContent?.fanout_id);

  // A pipeline passes through as the host's run_command takes it; each host checks each stage
  // in its place (db's policy has no wc) and reports each stage's status.
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web1", "web2", "db1"], pipeline: [["echo", "hello"], ["wc"]] } });
  check("run.pipeline.statuses", statuses(r) === "web1=ok web2=ok db1=denied", show(r.structuredContent));
  check("run.pipeline.output", r.structuredContent?.hosts?.slice(0, 2).every((h) => h.stdout === "6\n" && show(h.pipestatus) === "[0,0]"), show(r.structuredContent));
  // A host whose rule needs a person's approval: approval_required, with what the agent
  // tells its user (the approval's id and code), per host.
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["db1"], argv: ["uptime", "--pretty"] } });
  const approval = r.structuredContent?.hosts?.[0]?.approval;
  check("run.approval.status", statuses(r) === "db1=approval_required", show(r.structuredContent));
  check("run.approval.passed-through", /^[0-9a-f]{8,}$/.test(approval?.id ?? "") && /^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(approval?.code ?? ""), show(r.structuredContent));
  // background: a task on each host, each host's task_id at once; read back on its host
  // through the pass-through get_task.
  r = await client.callTool({ name: "run_command", arguments: { group: "web", argv: ["sleep", "1"], background: true } });
  const started = r.structuredContent?.hosts ?? [];
  check("run.background.started", statuses(r) === "web1=ok web2=ok web3=ok" &&
    started.every((h) => /^[0-9a-f]{16}$/.test(h.task_id ?? "") && h.state === "running"), show(r.structuredContent));
  r = await client.callTool({ name: "get_task", arguments: { host: "web2", task_id: started[1]?.task_id ?? "none" } });
  check("run.background.get-task", r.structuredContent?.host === "web2" && r.structuredContent?.task_id === started[1]?.task_id &&
    typeof r.structuredContent?.state === "string", show(r.structuredContent));
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web1"], argv: ["sleep", "1"], background: "yes" } });
  check("run.background.not-boolean", r.isError === true && /`background` must be true or false/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web1"], pipeline: [["echo", "hello"]] } });
  check("run.pipeline.one-stage", r.isError === true && /at least 2 stages/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web1"], argv: ["echo", "hello"], pipeline: [["echo", "a"], ["wc"]] } });
  check("run.pipeline.and-argv", r.isError === true && /exactly one of/.test(text(r)), show(r));

  // Everything: allowed on web, denied on db, the down host unreachable; a table to read.
  r = await client.callTool({ name: "run_command", arguments: { group: "all", command: "echo hello", timeout_seconds: 5 } });
  check("run.all.statuses", statuses(r) === "web1=ok web2=ok web3=ok db1=denied db-down=unreachable db-hang=denied", show(r.structuredContent));
  check("run.all.table", /db-down +unreachable/.test(text(r)) && /db1 +denied/.test(text(r)), text(r));
  check("run.all.not-an-error", r.isError === false, show(r));
  const down = r.structuredContent?.hosts?.find((h) => h.host === "db-down");
  check("run.all.unreachable-says-why", /db-down.*(refused|No route|timed out)/.test(down?.message ?? ""), show(down));
  check("run.all.no-address-user-or-key", !/10\.231\.|key-fleet|bridle-it-/.test(JSON.stringify(r)), show(down));
  data("all_fanout", r.structuredContent?.fanout_id);

  // One host's policy: check_command and list_allowed_commands.
  r = await client.callTool({ name: "check_command", arguments: { host: "db1", argv: ["echo", "hello"] } });
  check("check.db1.deny", r.structuredContent?.decision === "deny", show(r));
  r = await client.callTool({ name: "check_command", arguments: { host: "web1", argv: ["echo", "hello"] } });
  check("check.web1.allow", r.structuredContent?.decision === "allow", show(r));
  r = await client.callTool({ name: "list_allowed_commands", arguments: { host: "web1" } });
  check("allowed.web1", (r.structuredContent?.rules ?? []).some((x) => x.id === "echo-word"), show(r));
  // A host tool passed through: web1's policy has no files entry, so its bridle refuses.
  r = await client.callTool({ name: "read_file", arguments: { host: "web1", path: "/etc/hostname" } });
  check("pass-through.read-file", r.structuredContent?.host === "web1" && typeof r.structuredContent?.status === "string" &&
    r.structuredContent?.status !== "ok" && !/unknown tool/i.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { group: "nosuch", argv: ["uptime"] } });
  check("run.unknown-group", r.isError === true && /no host or group "nosuch"/.test(text(r)), show(r));

  // A session that drops (its ssh killed) is reopened by the next call.
  const ssh = execFileSync("pgrep", ["-P", String(transport.pid), "-f", "10\\.231\\.1\\.2"], { encoding: "utf8" }).trim();
  check("drop.found-ssh", /^\d+$/.test(ssh), ssh);
  process.kill(Number(ssh), "SIGKILL");
  await sleep(200);
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web1"], argv: ["echo", "again"] } });
  check("drop.reopened", statuses(r) === "web1=ok" && r.structuredContent?.hosts?.[0]?.stdout === "again\n", show(r.structuredContent));
  data("reopen_fanout", r.structuredContent?.fanout_id);

  // Cancellation mid-fan-out reaches every host: their commands are killed.
  const sleeps = () => count("sleep 299") + count("/bin/sleep 299");
  const controller = new AbortController();
  const pending = client.callTool({ name: "run_command", arguments: { group: "web", argv: ["sleep", "299"] } },
    undefined, { signal: controller.signal, timeout: 60000 });
  check("cancel.started", await waitFor(() => sleeps() === 3, 10), `running: ${sleeps()}`);
  controller.abort("test");
  let rejected = false;
  try { await pending; } catch { rejected = true; }
  check("cancel.rejected", rejected, "the call was not aborted");
  check("cancel.killed-everywhere", await waitFor(() => sleeps() === 0, 10), `still running: ${sleeps()}`);

  // The server still serves after a cancellation.
  r = await client.callTool({ name: "run_command", arguments: { hosts: ["web2"], argv: ["uptime"] } });
  check("after-cancel.serves", statuses(r) === "web2=ok", show(r.structuredContent));
  await client.close();
  if (stderr) data("stderr", JSON.stringify(stderr.slice(0, 300)));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
