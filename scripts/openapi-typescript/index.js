// openapi-typescript builds its output with TypeScript's compiler API (ts.factory, the printer).
// The project's TypeScript 7 is the native compiler and has no such API, and openapi-typescript's
// peer dependency says `typescript ^5`: this package depends on both, so npm installs them here,
// in this folder's node_modules, and openapi-typescript resolves the TypeScript 5 beside it.
import openapiTS, { astToString } from "openapi-typescript";

/** An OpenAPI document (object) → the TypeScript declarations openapi-fetch takes (`paths`, …). */
export async function generateTypes(document) {
  return astToString(await openapiTS(document, { alphabetize: true }));
}
