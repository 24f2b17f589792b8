// Feedback for actions: what happened, or the API's `detail` when it did not.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { errorText } from "../../api/client.ts";
import { cn } from "../../lib/cn.ts";

interface Toast {
  id: number;
  tone: "ok" | "error";
  text: string;
}

const ToastContext = createContext<{ ok: (text: string) => void; error: (err: unknown) => void }>({ ok: () => {}, error: () => {} });

let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((tone: Toast["tone"], text: string) => {
    const id = nextId++;
    setToasts((t) => [...t.slice(-3), { id, tone, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), tone === "error" ? 9000 : 4000);
  }, []);
  // One object for the provider's life: screens name `toast` among an effect's dependencies, and
  // a new one on every toast re-ran those effects, each showing its toast again, without end.
  const value = useMemo(() => ({ ok: (text: string) => push("ok", text), error: (err: unknown) => push("error", errorText(err)) }), [push]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div aria-live="polite" className="fixed right-3 bottom-3 z-50 grid w-[min(24rem,calc(100vw-1.5rem))] gap-2">
        {toasts.map((t) => (
          <div
            key={t.id}
            role={t.tone === "error" ? "alert" : "status"}
            data-testid="toast"
            className={cn(
              "rounded-md border px-3 py-2 text-sm shadow-lg",
              t.tone === "error"
                ? "border-red-300 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
                : "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-200",
            )}
          >
            {t.text}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);
