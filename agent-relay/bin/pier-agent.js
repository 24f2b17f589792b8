#!/usr/bin/env node
// The agent ships as TypeScript source. Node 22.18+ runs it directly (type stripping), except
// below a node_modules folder, which is exactly where an installed package lives; tsx's loader
// has no such limit, so the bin registers it before loading the entry point.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
