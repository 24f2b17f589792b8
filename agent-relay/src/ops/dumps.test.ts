// The pure parts of database dumps: the versions read from an artifact's head (real heads, made by
// pg_dump 15, Redis 7.0 and mariadb-dump 10.11 in the test images), reading that head without
// losing it, and the tar a Redis restore puts into the container.
import { describe, expect, it } from "vitest";
import { entrySize, tarHeader } from "./deploy-tar.ts";
import { peek, pgDumpServerVersion, rdbRedisVersion, redisRestoreTar, sqlDumpServerVersion } from "./dumps.ts";
import { majorVersion } from "../protocol.ts";

const PG_DUMP_HEAD = Buffer.from(
  "UEdETVABDgAECAEBAQAAAAAfAAAAABAAAAAACAAAAAAeAAAAAAoAAAAAfgAAAAAAAAAAAAQAAABzaG9wAB4AAAAxNS4xOCAoRGViaWFuIDE1LjE4LTArZGViMTJ1MSkAHgAAADE1LjE4IChEZWJpYW4gMTUuMTgtMCtkZWIxMnUxKQAGAAAAAA0NAAAAAAAAAAABAAAAMAABAAAAMAAIAA==",
  "base64",
);
const RDB_HEAD = Buffer.from(
  "UkVESVMwMDEw+glyZWRpcy12ZXIGNy4wLjE1+gpyZWRpcy1iaXRzwED6BWN0aW1lwuEwDWv6CHVzZWQtbWVtwmBUDgD6CGFvZi1iYXNlwAD+APsBAAABawF2/1pFYeFakuza",
  "base64",
);
const SQL_HEAD = Buffer.from(
  "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.18-MariaDB, for debian-linux-gnu (x86_64)\n--\n-- Host: localhost    Database: shop\n-- ------------------------------------------------------\n-- Server version\t10.11.18-MariaDB-0+deb12u1\n",
);

async function* pieces(...parts: Uint8Array[]) {
  for (const part of parts) yield part;
}
async function collect(source: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

describe("artifact versions", () => {
  it("reads the server version from a pg_dump custom-format header", () => {
    expect(pgDumpServerVersion(PG_DUMP_HEAD)).toBe("15.18 (Debian 15.18-0+deb12u1)");
    expect(majorVersion(pgDumpServerVersion(PG_DUMP_HEAD))).toBe(15);
    // Cut short, or not a dump at all: unknown, not a guess.
    expect(pgDumpServerVersion(PG_DUMP_HEAD.subarray(0, 40))).toBeNull();
    expect(pgDumpServerVersion(Buffer.from("-- PostgreSQL database dump"))).toBeNull();
  });

  it("reads redis-ver from an RDB file and the server version from a SQL dump", () => {
    expect(rdbRedisVersion(RDB_HEAD)).toBe("7.0.15");
    expect(rdbRedisVersion(Buffer.from("not an rdb"))).toBeNull();
    expect(sqlDumpServerVersion(SQL_HEAD)).toBe("10.11.18-MariaDB-0+deb12u1");
    expect(majorVersion("10.11.18-MariaDB-0+deb12u1")).toBe(10);
    expect(sqlDumpServerVersion(Buffer.from("CREATE TABLE t (n int);"))).toBeNull();
  });
});

describe("peek", () => {
  it("hands out the head and then every byte, the head included, across piece boundaries", async () => {
    const { head, rest } = await peek(pieces(Buffer.from("abc"), Buffer.from("defg"), Buffer.from("hij")), 5);
    expect(head.toString()).toBe("abcdefg");
    expect((await collect(rest)).toString()).toBe("abcdefghij");
  });

  it("gives what there is when the source is shorter than asked", async () => {
    const { head, rest } = await peek(pieces(Buffer.from("ab")), 10);
    expect(head.toString()).toBe("ab");
    expect((await collect(rest)).toString()).toBe("ab");
  });
});

describe("the tar a Redis restore puts", () => {
  const rdb = Buffer.concat([RDB_HEAD, Buffer.alloc(700, 7)]);
  const artifact = Buffer.concat([
    tarHeader("dump.rdb", rdb.length),
    rdb,
    Buffer.alloc((512 - (rdb.length % 512)) % 512),
    Buffer.alloc(1024),
  ]);

  it("renames the snapshot and adds the AOF files after it, the manifest last", async () => {
    const entries = {
      rdb: "appendonlydir/appendonly.aof.99.base.rdb",
      after: [
        { name: "appendonlydir/appendonly.aof.99.incr.aof", content: "" },
        { name: "appendonlydir/appendonly.aof.manifest", content: "file appendonly.aof.99.base.rdb seq 99 type b\n" },
      ],
    };
    // In uneven pieces, as frames arrive.
    const tar = await collect(
      redisRestoreTar(pieces(artifact.subarray(0, 100), artifact.subarray(100, 1300), artifact.subarray(1300)), rdb.length, entries),
    );
    const names: string[] = [];
    const contents: Buffer[] = [];
    for (let at = 0; at + 512 <= tar.length; ) {
      const header = tar.subarray(at, at + 512);
      if (header.every((b) => b === 0)) break;
      const size = entrySize(header);
      names.push(header.toString("utf8", 0, 100).replace(/\0.*$/s, ""));
      contents.push(tar.subarray(at + 512, at + 512 + size));
      at += 512 + size + ((512 - (size % 512)) % 512);
    }
    expect(names).toEqual([entries.rdb, ...entries.after.map((e) => e.name)]);
    expect(contents[0]!.equals(rdb)).toBe(true);
    expect(contents[2]!.toString()).toBe(entries.after[1]!.content);
    expect(tar.length % 512).toBe(0);
  });

  it("fails on a snapshot cut short instead of restoring half of it", async () => {
    await expect(collect(redisRestoreTar(pieces(artifact.subarray(0, 600)), rdb.length, { rdb: "dump.rdb", after: [] }))).rejects.toThrow(
      /cut/,
    );
  });
});
