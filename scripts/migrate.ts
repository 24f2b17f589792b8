// Applies pending SQL migrations from migrations/ (drizzle-kit output) to LIBSQL_URL. Production
// runs this explicitly (`LIBSQL_URL=… LIBSQL_AUTH_TOKEN=… npm run db:migrate`); nothing migrates
// implicitly there. `npm start` and the tests call `migrate` for the local database.
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate as drizzleMigrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../migrations", import.meta.url));

export async function migrate(url: string, authToken?: string): Promise<void> {
  const client = createClient({ url, authToken });
  try {
    await drizzleMigrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    client.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const url = process.env.LIBSQL_URL;
  if (!url) {
    console.error("Set LIBSQL_URL (and LIBSQL_AUTH_TOKEN for Turso or sqld), e.g. LIBSQL_URL=libsql://<db>.turso.io npm run db:migrate");
    process.exit(2);
  }
  await migrate(url, process.env.LIBSQL_AUTH_TOKEN);
  console.log(`migrations applied to ${new URL(url).host}`);
}
