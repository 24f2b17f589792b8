// A container's files (`docker cp` both ways): see what a path is, download it as a tar (the
// browser streams it straight from the API), or extract a tar into a directory.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok, sendFile } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { bytes } from "../lib/format.ts";
import { Button } from "./ui/button.tsx";
import { Card, ErrorNote } from "./ui/card.tsx";
import { Input } from "./ui/input.tsx";
import { useToast } from "./ui/toast.tsx";

/** Go's os.ModeDir and os.ModeSymlink bits in the engine's stat. */
const kindOf = (mode: number): string => (Math.floor(mode / 2 ** 31) % 2 ? "directory" : Math.floor(mode / 2 ** 27) % 2 ? "link" : "file");

export default function ContainerFiles({ hostId, containerId }: { hostId: string; containerId: string }) {
  const can = useCan();
  const toast = useToast();
  const [path, setPath] = useState("/");
  const [file, setFile] = useState<File | null>(null);
  const archive = `/api/v1/hosts/${encodeURIComponent(hostId)}/containers/${encodeURIComponent(containerId)}/archive`;
  const stat = useQuery({
    queryKey: ["hosts", hostId, "container", containerId, "stat", path],
    queryFn: () =>
      ok(
        api.GET("/api/v1/hosts/{hostId}/containers/{id}/archive/stat", { params: { path: { hostId, id: containerId }, query: { path } } }),
      ),
    enabled: path.startsWith("/"),
    retry: false,
  });
  const upload = useMutation({
    mutationFn: (tar: File) => sendFile<{ path: string; bytes: number }>("PUT", `${archive}?path=${encodeURIComponent(path)}`, tar),
    onSuccess: (done) => toast.ok(`Extracted ${bytes(done.bytes)} into ${done.path}`),
    onError: (err) => toast.error(err),
  });
  const look = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setPath(String(new FormData(e.currentTarget).get("path") || "/"));
  };
  const isDir = stat.data ? kindOf(stat.data.mode) === "directory" : false;
  return (
    <Card title="Files">
      <form onSubmit={look} className="mb-3 flex flex-wrap items-center gap-2">
        <Input name="path" aria-label="Path in the container" defaultValue={path} placeholder="/etc" required className="max-w-md" />
        <Button type="submit" variant="secondary">
          Look
        </Button>
      </form>
      <ErrorNote error={stat.error} />
      {stat.data ? (
        <div className="space-y-3 text-sm" data-testid="path-stat">
          <p>
            <span className="font-mono">{path}</span>: {kindOf(stat.data.mode)}
            {isDir ? "" : `, ${bytes(stat.data.size)}`}, modified {new Date(stat.data.mtime).toLocaleString()}
            {stat.data.linkTarget ? ` → ${stat.data.linkTarget}` : ""}
          </p>
          {can.operate ? (
            <div className="flex flex-wrap items-center gap-2">
              <a
                className="rounded-md border border-zinc-300 px-3 py-1.5 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
                href={`${archive}?path=${encodeURIComponent(path)}`}
                download
              >
                Download as tar
              </a>
              {isDir ? (
                <>
                  <input
                    type="file"
                    aria-label="Tar to extract here"
                    accept=".tar,.tar.gz,.tgz,application/x-tar"
                    onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
                  />
                  <Button disabled={!file} busy={upload.isPending} onClick={() => file && upload.mutate(file)}>
                    Extract here
                  </Button>
                </>
              ) : null}
            </div>
          ) : (
            <p className="text-zinc-500">Copying files is for members and up.</p>
          )}
        </div>
      ) : null}
    </Card>
  );
}
