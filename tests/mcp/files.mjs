// SPDX-License-Identifier: Apache-2.0
// The web server walkthrough's writes through MCP (issue 16): the official v1 SDK's Client
// against bridle's session mode, with read_file, write_file and run_command, on the host that
// tests/integration/files.sh set up (nginx running, the blog site enabled on port 8080).
//
// usage: node files.mjs -- SSH_ARGS...
// Prints "PASS name", "FAIL name: why" and "DATA key value" lines; exits 0 unless it crashed.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { check, show, text } from "./report.mjs";

const [dashdash, ...sshArgs] = process.argv.slice(2);
if (dashdash !== "--" || sshArgs.length === 0) {
  console.error("usage: node files.mjs -- SSH_ARGS...");
  process.exit(2);
}
const site = "/etc/nginx/sites-available/blog";
const conf = (port, extra = "") => `server {\n    listen ${port};\n    root /var/www/html;\n${extra}}\n`;

async function main() {
  const transport = new StdioClientTransport({ command: "ssh", args: [...sshArgs, "mcp"], stderr: "pipe" });
  const client = new Client({ name: "bridle-test-files", version: "1.0.0" });
  await client.connect(transport);
  const call = (name, args) => client.callTool({ name, arguments: args });

  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  check("tools.file-tools", names.includes("read_file") && names.includes("write_file"), show(names));

  let r = await call("read_file", { path: site });
  check("read.ok", r.structuredContent?.status === "ok" && r.isError === false, show(r));
  check("read.content", /listen 8080;/.test(r.structuredContent?.content ?? "") && r.structuredContent?.encoding === "utf-8", show(r.structuredContent));
  check("read.whole", r.structuredContent?.offset === 0 && r.structuredContent?.more === false, show(r.structuredContent));
  r = await call("read_file", { path: site, offset: 2, limit: 4 });
  check("read.range", r.structuredContent?.content === "rver" && r.structuredContent?.offset === 2 && r.structuredContent?.more === true, show(r.structuredContent));

  // Rejected by the validator: a result the model can act on, the file as it was.
  r = await call("write_file", { path: site, content: conf("8081").replace("8081;", "8081") });
  check("write.invalid.refused", r.isError === true && r.structuredContent?.status === "refused", show(r));
  check("write.invalid.why", /validator nginx-site-check rejected/.test(r.structuredContent?.message ?? "") && /invalid parameter/.test(r.structuredContent?.message ?? ""), show(r.structuredContent));
  r = await call("read_file", { path: site });
  check("write.invalid.unchanged", /listen 8080;/.test(r.structuredContent?.content ?? ""), show(r.structuredContent));

  r = await call("write_file", { path: site, content: conf("8081") });
  check("write.ok", r.isError === false && r.structuredContent?.status === "ok", show(r));
  check("write.says", /wrote \/etc\/nginx\/sites-available\/blog/.test(r.structuredContent?.message ?? "") && /restore .* --version \d+/.test(r.structuredContent?.message ?? ""), show(r.structuredContent));

  r = await call("run_command", { argv: ["nginx", "-s", "reload"] });
  check("reload.ok", r.structuredContent?.status === "ok", show(r.structuredContent));
  let page = null;
  for (let i = 0; i < 30 && !/200 OK/.test(page?.structuredContent?.stdout ?? ""); i++) {
    page = await call("run_command", { argv: ["curl", "-sS", "-I", "http://localhost:8081/index.html"] });
    if (!/200 OK/.test(page?.structuredContent?.stdout ?? "")) await new Promise((res) => setTimeout(res, 200));
  }
  check("curl.8081", /HTTP\/1.1 200 OK/.test(page?.structuredContent?.stdout ?? ""), show(page?.structuredContent));

  r = await call("run_command", { argv: ["versions", site] });
  check("versions.ok", r.structuredContent?.status === "ok" && /^VERSION\tREPLACED\tCONTENT\n/.test(r.structuredContent?.stdout ?? ""), show(r.structuredContent));
  r = await call("run_command", { argv: ["restore", site] });
  check("restore.ok", r.structuredContent?.status === "ok", show(r.structuredContent));
  r = await call("read_file", { path: site });
  check("restore.content", /listen 8080;/.test(r.structuredContent?.content ?? ""), show(r.structuredContent));

  // Refusals: binary content for a text entry, a path no entry takes, content on run_command.
  r = await call("write_file", { path: site, content_base64: Buffer.from("server {}\n\u0000").toString("base64") });
  check("write.binary.refused", r.structuredContent?.status === "refused" && /NUL byte/.test(r.structuredContent?.message ?? ""), show(r.structuredContent));
  r = await call("write_file", { path: "/etc/bridle/policy.yaml", content: "version: 1\n" });
  check("write.policy.denied", r.isError === true && r.structuredContent?.status === "denied" && /bridle's own/.test(r.structuredContent?.reason ?? ""), show(r.structuredContent));
  r = await call("read_file", { path: "/etc/nginx/ssl/site.key" });
  check("read.key.denied", r.structuredContent?.status === "denied" && r.structuredContent?.content === undefined, show(r.structuredContent));
  r = await call("run_command", { argv: ["put", site] });
  check("put.via-run-command.refused", r.structuredContent?.status !== "ok" && /takes no content/.test(text(r)), show(r.structuredContent));
  await client.close();
}

main().catch((e) => {
  console.log(`FAIL files.crashed: ${String(e?.stack ?? e).replace(/\n/g, "\\n")}`);
  process.exit(1);
});
