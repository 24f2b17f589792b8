// Runs the local libSQL server:
//   tsx scripts/libsql-server/main.ts [--file .pier/pier.db] [--port 8080] [--host 127.0.0.1] [--auth-token T]
// Defaults come from PIER_DATA_DIR (the file is <dir>/pier.db) and LIBSQL_PORT. The URL is the only
// thing printed on stdout, so a parent process can read it; logs go to stderr.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startLibsqlServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    file: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "auth-token": { type: "string" },
  },
});

const file = values.file ?? join(process.env.PIER_DATA_DIR ?? ".pier", "pier.db");
const portText = values.port ?? process.env.LIBSQL_PORT ?? "8080";
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${portText}`);
  process.exit(2);
}

const server = await startLibsqlServer({
  path: file,
  port,
  host: values.host,
  authToken: values["auth-token"],
  log: (line) => console.error(`[libsql] ${line}`),
});
console.log(server.url);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
