import * as z from "zod/mini";

/** The Docker object types whose events the agent forwards. */
export const EVENT_TYPES = ["container", "image", "network", "volume"] as const;

/** One Docker event, flattened from the engine's `/events` JSON. */
export const DockerEventSchema = z.object({
  /** "container" | "image" | "network" | "volume" (left open for newer engines). */
  type: z.string(),
  /** Docker's action verbatim: "start", "die", "pull", "exec_start: sh -c …", "health_status: healthy". */
  action: z.string(),
  /** The object's id (for images: the reference or id Docker reports). */
  id: z.string(),
  /** Docker's Actor.Attributes: name, image, exitCode, labels of the container, … */
  attributes: z.record(z.string(), z.string()),
  /** Epoch milliseconds. */
  time: z.number(),
  scope: z.optional(z.string()),
});
export type DockerEvent = z.infer<typeof DockerEventSchema>;

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {});

/** Flattens one raw engine event; returns null for a document that is not an event. */
export function normalizeEvent(raw: unknown): DockerEvent | null {
  const doc = obj(raw);
  const type = typeof doc.Type === "string" ? doc.Type : undefined;
  const action = typeof doc.Action === "string" ? doc.Action : typeof doc.status === "string" ? doc.status : undefined;
  if (!type || !action) return null;
  const actor = obj(doc.Actor);
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj(actor.Attributes))) {
    if (typeof value === "string") attributes[key] = value;
  }
  const id = typeof actor.ID === "string" ? actor.ID : typeof doc.id === "string" ? doc.id : "";
  const timeNano = typeof doc.timeNano === "number" ? doc.timeNano : undefined;
  const seconds = typeof doc.time === "number" ? doc.time : 0;
  const event: DockerEvent = {
    type,
    action,
    id,
    attributes,
    time: timeNano !== undefined ? Math.floor(timeNano / 1e6) : seconds * 1000,
  };
  if (typeof doc.scope === "string") event.scope = doc.scope;
  return event;
}
