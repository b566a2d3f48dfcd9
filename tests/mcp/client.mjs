// SPDX-License-Identifier: Apache-2.0
// An independent MCP client for bridle's session mode: the official TypeScript SDK's Client
// and StdioClientTransport, configured the way a user configures Claude Code (command: ssh,
// args: [... , "mcp"]). Run by tests/integration/mcp_session.sh inside its namespaces.
//
// usage: node client.mjs SCENARIO -- SSH_ARGS...
//   main        handshake, tools/list, allowed/denied/nonzero/help calls, unknown tool,
//               list_allowed_commands, check_command, wait_for_approval (listed, refused),
//               argv vs command, timeout, progress,
//               concurrent calls, the concurrency cap, output truncation, cancellation
//   disconnect  start a process tree, then kill the ssh client; the tree must go
//   tasks       run_command background: true, reconnect, get_task_output from an offset,
//               get_task, cancel_task, and the refusals
//   approvals   approval_required, wait_for_approval while approvers answer, then run once
//               (tests/integration/approvals.sh; APPROVAL_ID_FILE)
// Prints "PASS name", "FAIL name: why" and "DATA key value" lines; exits 0 unless it crashed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { check, count, data, fail, pass, show, text, waitFor } from "./report.mjs";
import fs from "node:fs";
import os from "node:os";

const [scenario, dashdash, ...sshArgs] = process.argv.slice(2);
if (!scenario || dashdash !== "--" || sshArgs.length === 0) {
  console.error("usage: node client.mjs SCENARIO -- SSH_ARGS...");
  process.exit(2);
}

async function connect(name) {
  const transport = new StdioClientTransport({ command: "ssh", args: [...sshArgs, "mcp"], stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, stderr: () => stderr };
}

async function main() {
  const t0 = process.hrtime.bigint();
  const { client, stderr } = await connect("bridle-test-main");
  data("connect_ms", Number(process.hrtime.bigint() - t0) / 1e6);
  const server = client.getServerVersion();
  check("handshake.server-name", server?.name === "bridle", show(server));
  const caps = client.getServerCapabilities();
  check("handshake.tools-capability", caps?.tools !== undefined, show(caps));
  check("handshake.instructions", /list_allowed_commands/.test(client.getInstructions() ?? ""), client.getInstructions());

  // tools/list: three tools, schemas and honest annotations.
  const { tools } = await client.listTools();
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  check("tools-list.names", ["run_command", "list_allowed_commands", "check_command"].every((n) => byName[n]), show(tools.map((t) => t.name)));
  const run = byName.run_command;
  check("tools-list.run-output-schema-statuses",
    show(run?.outputSchema?.properties?.status?.enum) === show(["ok", "exit_nonzero", "denied", "timeout", "cancelled", "error", "approval_required"]), show(run?.outputSchema));
  check("tools-list.run-not-read-only", run?.annotations?.readOnlyHint === false && run?.annotations?.destructiveHint === true, show(run?.annotations));
  check("tools-list.list-read-only", byName.list_allowed_commands?.annotations?.readOnlyHint === true, show(byName.list_allowed_commands?.annotations));
  check("tools-list.check-read-only", byName.check_command?.annotations?.readOnlyHint === true, show(byName.check_command?.annotations));

  // An allowed command, as argv and as a command line.
  let r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "hello"] } });
  check("allowed.argv.status", r.structuredContent?.status === "ok" && r.isError === false, show(r));
  check("allowed.argv.stdout", r.structuredContent?.stdout === "hello\n" && r.structuredContent?.exit_code === 0, show(r));
  check("allowed.argv.text", text(r).startsWith("hello\n"), text(r));
  check("allowed.argv.rule", r.structuredContent?.rule === "echo-word", show(r.structuredContent));
  data("allowed_request_id", r.structuredContent?.request_id);
  r = await client.callTool({ name: "run_command", arguments: { command: "echo   'world'" } });
  check("allowed.command-line.stdout", r.structuredContent?.stdout === "world\n", show(r));

  // A pipeline, as stages and as a command line: bridle's pipes, each stage's status.
  r = await client.callTool({ name: "run_command", arguments: { pipeline: [["echo", "hello"], ["wc"]] } });
  check("pipeline.argv.stdout", r.structuredContent?.status === "ok" && r.structuredContent?.stdout === "6\n", show(r));
  check("pipeline.argv.rule", r.structuredContent?.rule === "echo-word|count-bytes", show(r.structuredContent));
  check("pipeline.argv.pipestatus", show(r.structuredContent?.pipestatus) === "[0,0]", show(r.structuredContent));
  data("pipeline_request_id", r.structuredContent?.request_id);
  r = await client.callTool({ name: "run_command", arguments: { command: "echo hi | wc" } });
  check("pipeline.command-line.stdout", r.structuredContent?.stdout === "3\n", show(r));
  r = await client.callTool({ name: "run_command", arguments: { pipeline: [["echo", "hi"], ["sh", "-c", "id"]] } });
  check("pipeline.denied", r.isError === true && r.structuredContent?.status === "denied" && /stage 2 of 2/.test(text(r)), show(r));
  r = await client.callTool({ name: "check_command", arguments: { pipeline: [["echo", "hi"], ["wc"]] } });
  check("pipeline.check", r.structuredContent?.decision === "allow" && show(r.structuredContent?.pipeline) === '[["echo","hi"],["wc","-c"]]', show(r));

  // A non-zero exit is a result, not a tool error.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["false"] } });
  check("nonzero.status", r.structuredContent?.status === "exit_nonzero" && r.structuredContent?.exit_code === 1, show(r));
  check("nonzero.not-tool-error", r.isError === false, show(r));

  // Denials: isError, the reason, the nearest usage, the pointer to list_allowed_commands.
  r = await client.callTool({ name: "run_command", arguments: { command: "echo HELLO" } });
  check("denied.is-error", r.isError === true && r.structuredContent?.status === "denied", show(r));
  check("denied.reason", (r.structuredContent?.reason ?? "").length > 0 && text(r).includes(r.structuredContent?.reason), show(r));
  check("denied.usage", (r.structuredContent?.usage ?? []).includes("echo WORD") && text(r).includes("echo WORD"), show(r));
  check("denied.points-at-list", text(r).includes("list_allowed_commands"), text(r));
  data("denied_request_id", r.structuredContent?.request_id);
  r = await client.callTool({ name: "run_command", arguments: { command: "cat /etc/shadow; touch /mnt/bridle/scratch/pwned" } });
  check("denied.shell-syntax", r.isError === true && r.structuredContent?.status === "denied" && /column/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "a\u0000b"] } });
  check("denied.nul-in-argv", r.isError === true && r.structuredContent?.status === "denied" && /U\+0000/.test(text(r)), show(r));

  // Wrong arguments: a tool error the model can act on.
  r = await client.callTool({ name: "run_command", arguments: { argv: "echo hello" } });
  check("bad-args.argv-string", r.isError === true && r.structuredContent?.status === "error" && /argv/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { argv: ["uptime"], command: "uptime" } });
  check("bad-args.both", r.isError === true && /exactly one/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: {} });
  check("bad-args.neither", r.isError === true && /exactly one/.test(text(r)), show(r));

  // An unknown tool is a protocol error (-32602).
  try {
    await client.callTool({ name: "rm_rf", arguments: {} });
    fail("unknown-tool", "no error");
  } catch (e) {
    check("unknown-tool", e.code === -32602 && /Unknown tool/.test(e.message), `${e.code} ${e.message}`);
  }

  // list_allowed_commands and check_command.
  r = await client.callTool({ name: "list_allowed_commands", arguments: {} });
  const rules = r.structuredContent?.rules ?? [];
  check("list.has-echo", rules.some((x) => x.id === "echo-word" && x.synopsis === "echo WORD" && x.timeout_ms === 60000), show(rules));
  check("list.hides-other-keys", !rules.some((x) => x.id === "other-key-only"), show(rules.map((x) => x.id)));
  check("list.text", text(r).includes("echo WORD"), text(r));
  r = await client.callTool({ name: "check_command", arguments: { command: "tail -n 5 /var/log/syslog" } });
  check("check.allow", r.structuredContent?.decision === "allow" && r.structuredContent?.rule === "tail-log", show(r));
  r = await client.callTool({ name: "check_command", arguments: { argv: ["touch", "/mnt/bridle/scratch/pwned"] } });
  check("check.deny", r.structuredContent?.decision === "deny" && r.isError === false, show(r));

  // wait_for_approval: listed with its schemas; this policy has no rule that needs approval, so
  // a wait is a tool error that says so (the SDK validates the structured result's shape).
  const wait = byName.wait_for_approval;
  check("wait.listed", show(wait?.inputSchema?.required) === show(["id"]) && wait?.outputSchema?.properties?.status?.enum?.includes("approved") && wait?.annotations?.readOnlyHint === true, show(wait));
  r = await client.callTool({ name: "wait_for_approval", arguments: { id: "0123456789abcdef0123456789abcdef", timeout_seconds: 5 } });
  check("wait.nothing-to-wait-for", r.isError === true && r.structuredContent?.status === "error" && /nothing to wait for/.test(text(r)), show(r));

  // The client's own timeout, within the rule's.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["sleep", "30"], timeout_seconds: 1 } });
  check("timeout.status", r.isError === true && r.structuredContent?.status === "timeout" && r.structuredContent?.timeout_ms === 1000, show(r));

  // Progress notifications for a long command.
  const progress = [];
  r = await client.callTool({ name: "run_command", arguments: { argv: ["sleep", "3"] } }, undefined,
    { onprogress: (p) => progress.push(p), timeout: 30000 });
  check("progress.result", r.structuredContent?.status === "ok", show(r));
  check("progress.notifications", progress.length >= 2 && progress.every((p, i) => i === 0 || p.progress > progress[i - 1].progress), show(progress));

  // Concurrent calls over the one session; answers matched by id.
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  const results = await Promise.all(words.map((w) => client.callTool({ name: "run_command", arguments: { argv: ["echo", w] } })));
  check("concurrent.all-answered", results.every((x, i) => x.structuredContent?.stdout === `${words[i]}\n`), show(results.map((x) => x.structuredContent?.stdout)));

  // The concurrency cap: never more commands at once than min(processors, 4); the rest wait.
  const cap = Math.min(Math.max(os.availableParallelism?.() ?? os.cpus().length, 1), 4);
  let most = 0;
  const sampler = setInterval(() => { most = Math.max(most, count("sleep 2")); }, 50);
  const naps = await Promise.all([1, 2, 3, 4, 5].map(() => client.callTool({ name: "run_command", arguments: { argv: ["sleep", "2"] } })));
  clearInterval(sampler);
  check("cap.all-ran", naps.every((x) => x.structuredContent?.status === "ok"), show(naps.map((x) => x.structuredContent)));
  check("cap.respected", most >= 1 && most <= cap, `saw ${most} at once, cap ${cap}`);

  // Output over the rule's cap (64 KiB in the test policy) is cut and marked.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["tail", "-n", "5000", "/var/log/big.log"] } });
  const sc = r.structuredContent ?? {};
  check("truncated.marked", sc.status === "ok" && sc.truncated === true && sc.stdout_bytes > 65536 && Buffer.byteLength(sc.stdout ?? "") <= 65536, show({ ...sc, stdout: undefined }));
  check("truncated.text-says-so", /output truncated/.test(text(r)), text(r).slice(-300));

  // Cancellation: the command is killed, the session goes on.
  const controller = new AbortController();
  const pending = client.callTool({ name: "run_command", arguments: { argv: ["sleep", "577"] } }, undefined, { signal: controller.signal, timeout: 60000 });
  if (await waitFor(() => count("sleep 577") === 1, 10)) {
    pass("cancel.started");
    controller.abort("test cancels");
    try {
      await pending;
      fail("cancel.rejected", "the call resolved");
    } catch {
      pass("cancel.rejected");
    }
    check("cancel.killed", await waitFor(() => count("sleep 577") === 0, 10), "sleep 577 still running 10 s after the cancellation");
  } else {
    fail("cancel.started", "sleep 577 did not start");
  }
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "after"] } });
  check("cancel.session-continues", r.structuredContent?.stdout === "after\n", show(r));
  await client.ping();
  pass("ping");

  await client.close();
  check("stderr-quiet", stderr().trim() === "", stderr());
}

// Start a tree of sleeps, then kill the ssh client: bridle must kill the tree.
async function disconnect() {
  const { client, transport } = await connect("bridle-test-disconnect");
  const call = client.callTool({ name: "run_command", arguments: { argv: ["spawn-tree", "-c", "sleep 2718 & sleep 2718 & setsid sleep 2718 & wait"] } }, undefined, { timeout: 120000 });
  call.catch(() => {});
  if (!(await waitFor(() => count("sleep 2718") >= 3, 10))) {
    fail("disconnect.tree-started", `only ${count("sleep 2718")} sleeps`);
    return;
  }
  pass("disconnect.tree-started");
  process.kill(transport.pid, "SIGKILL");
  check("disconnect.tree-killed", await waitFor(() => count("sleep 2718") === 0, 10), `${count("sleep 2718")} sleeps left`);
  try { await client.close(); } catch { /* already gone */ }
}

// Tasks: run_command background: true returns a task id at once; the session (and its ssh
// connection) ends; a new session reads the output from an offset and the final state.
async function tasks() {
  let { client } = await connect("bridle-test-tasks");
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  check("tasks.tools-listed", ["get_task", "get_task_output", "cancel_task"].every((n) => names.includes(n)), show(names));
  check("tasks.background-in-schema", tools.find((t) => t.name === "run_command")?.inputSchema?.properties?.background?.type === "boolean", show(tools[0]));
  const t0 = Date.now();
  let r = await client.callTool({ name: "run_command", arguments: { argv: ["ticker", "-c", "echo tick-one; sleep 3; echo tick-two"], background: true } });
  const id = r.structuredContent?.task_id;
  check("tasks.started", r.isError !== true && /^[0-9a-f]{16}$/.test(id ?? "") && r.structuredContent?.state === "running", show(r));
  check("tasks.returns-at-once", Date.now() - t0 < 2500, `${Date.now() - t0} ms`);
  await client.close(); // the connection goes; the task runs on

  ({ client } = await connect("bridle-test-tasks-again"));
  let first = "";
  await new Promise((res) => setTimeout(res, 500));
  {
    r = await client.callTool({ name: "get_task_output", arguments: { task_id: id } });
    first = r.structuredContent?.output ?? "";
    check("tasks.output-first", r.isError !== true && first.startsWith("tick-one") && r.structuredContent?.next_offset === Buffer.byteLength(first), show(r));
  }
  let state = "";
  for (let i = 0; i < 100 && state !== "exited"; i++) {
    r = await client.callTool({ name: "get_task", arguments: { task_id: id } });
    state = r.structuredContent?.state;
    if (state !== "exited") await new Promise((res) => setTimeout(res, 100));
  }
  check("tasks.exited", state === "exited" && r.structuredContent?.exit_status === 0, show(r));
  r = await client.callTool({ name: "get_task_output", arguments: { task_id: id, offset: Buffer.byteLength(first) } });
  check("tasks.output-rest", first + (r.structuredContent?.output ?? "") === "tick-one\ntick-two\n" && r.structuredContent?.state === "exited", show(r));
  r = await client.callTool({ name: "cancel_task", arguments: { task_id: id } });
  check("tasks.cancel-ended-refused", r.isError === true, show(r));

  // A long one, cancelled. Started by a worker that has run a command before, and followed by
  // another: the task's supervisor is not that worker's child, so the next call's clean-up
  // does not kill it.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "before"] } });
  check("tasks.command-before", r.structuredContent?.status === "ok", show(r));
  r = await client.callTool({ name: "run_command", arguments: { argv: ["sleep", "599"], background: true } });
  const long = r.structuredContent?.task_id;
  check("tasks.long-started", /^[0-9a-f]{16}$/.test(long ?? ""), show(r));
  check("tasks.long-running", await waitFor(() => count("sleep 599") === 1, 10), "sleep 599 did not start");
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "after"] } });
  check("tasks.command-after", r.structuredContent?.status === "ok", show(r));
  check("tasks.long-outlives-the-next-call", count("sleep 599") === 1, "sleep 599 is gone");
  r = await client.callTool({ name: "get_task", arguments: { task_id: long } });
  check("tasks.long-still-running", r.structuredContent?.state === "running", show(r));
  r = await client.callTool({ name: "cancel_task", arguments: { task_id: long } });
  check("tasks.cancel", r.isError !== true, show(r));
  check("tasks.cancel-killed", await waitFor(() => count("sleep 599") === 0, 10), "sleep 599 still running");

  // Refusals: a rule without task: true, a pipeline, an id that is not one of this key's.
  r = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "hello"], background: true } });
  check("tasks.not-a-task-rule", r.isError === true && r.structuredContent?.status === "denied" && /does not allow tasks/.test(text(r)), show(r));
  r = await client.callTool({ name: "run_command", arguments: { pipeline: [["echo", "hi"], ["wc"]], background: true } });
  check("tasks.no-pipeline", r.isError === true, show(r));
  r = await client.callTool({ name: "get_task", arguments: { task_id: "0123456789abcdef" } });
  check("tasks.unknown-id", r.isError === true && /no task/.test(text(r)), show(r));
  r = await client.callTool({ name: "get_task", arguments: { task_id: "../../etc" } });
  check("tasks.bad-id", r.isError === true, show(r));
  r = await client.callTool({ name: "get_task", arguments: {} });
  check("tasks.missing-id", r.isError === true, show(r));
  await client.close();
}

// The approval happy path with the SDK (tests/integration/approvals.sh): run_command answers
// approval_required, not an error; the id goes to APPROVAL_ID_FILE, where the test's approvers
// pick it up and answer on the host (bob over SSH, then root); wait_for_approval reports the
// first answer as progress and returns approved; the same call then runs once, and once only.
async function approvals() {
  const { client } = await connect("bridle-test-approvals");
  const call = (args) => client.callTool({ name: "run_command", arguments: args });
  let r = await call({ argv: ["echo", "sdk"] });
  const id = r.structuredContent?.approval?.id ?? "";
  check("approvals.required", r.structuredContent?.status === "approval_required" && r.isError !== true, show(r));
  check("approvals.id-and-code", /^[0-9a-f]{32}$/.test(id) && r.structuredContent?.approval?.code?.length > 0, show(r.structuredContent));
  fs.writeFileSync(process.env.APPROVAL_ID_FILE, `${id}\n`);
  const progress = [];
  r = await client.callTool({ name: "wait_for_approval", arguments: { id, timeout_seconds: 60 } }, undefined,
    { onprogress: (p) => progress.push(p), timeout: 90000 });
  check("approvals.wait-approved", r.structuredContent?.status === "approved" && r.isError !== true, show(r));
  check("approvals.wait-progress", progress.some((p) => /1 of 2/.test(p.message ?? "")), show(progress));
  r = await call({ argv: ["echo", "sdk"] });
  check("approvals.runs", r.structuredContent?.status === "ok" && r.structuredContent?.stdout === "sdk\n", show(r));
  r = await call({ argv: ["echo", "sdk"] });
  check("approvals.once", r.structuredContent?.status === "approval_required" && r.structuredContent?.approval?.id !== id, show(r));
  await client.close();
}

try {
  if (scenario === "main") await main();
  else if (scenario === "disconnect") await disconnect();
  else if (scenario === "tasks") await tasks();
  else if (scenario === "approvals") await approvals();
  else throw new Error(`unknown scenario ${scenario}`);
} catch (e) {
  fail(`${scenario}.crashed`, e?.stack ?? e);
}
process.exit(0);
