// The list screens' one mechanism: the list's query, and row actions (remove, cancel, acknowledge…)
// that ask first where a confirmation is wanted, say what happened in a toast (or the API's
// `detail` when it did not happen), and invalidate exactly the keys they change.
import { type QueryKey, type UseQueryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useToast } from "../components/ui/toast.tsx";

export interface RowActionOptions<V, R> {
  run: (v: V) => Promise<R>;
  /** The toast once it is done. */
  done: (v: V, result: R) => string;
  /** The question asked before acting; nothing (or an empty string) acts at once. */
  confirm?: (v: V) => string | undefined;
  /**
   * The keys the action changes, refreshed once it is done or refused (a refusal can also say the
   * list is stale: a row already gone, a run that failed and was recorded); a list screen defaults
   * to its own list.
   */
  invalidates?: readonly QueryKey[];
  /** What tells rows apart, for which row is busy (the value itself by default). */
  id?: (v: V) => unknown;
  onDone?: (v: V, result: R) => void;
}

export interface RowAction<V> {
  run: (v: V) => void;
  busy: (v: V) => boolean;
  pending: boolean;
}

export function useRowAction<V, R = unknown>(options: RowActionOptions<V, R>): RowAction<V> {
  const qc = useQueryClient();
  const toast = useToast();
  const mutation = useMutation({
    mutationFn: options.run,
    onSuccess: (result, v) => {
      toast.ok(options.done(v, result));
      options.onDone?.(v, result);
    },
    onError: (err) => toast.error(err),
    onSettled: () => {
      for (const queryKey of options.invalidates ?? []) void qc.invalidateQueries({ queryKey });
    },
  });
  const id = options.id ?? ((v: V) => v);
  return {
    run: (v) => {
      const question = options.confirm?.(v);
      if (question && !window.confirm(question)) return;
      mutation.mutate(v);
    },
    busy: (v) => mutation.isPending && mutation.variables !== undefined && id(mutation.variables) === id(v),
    pending: mutation.isPending,
  };
}

type ListQuery<T> = Omit<UseQueryOptions<T, Error, T, QueryKey>, "queryFn"> & { queryFn: () => Promise<T> };

const NO_REMOVE: RowActionOptions<never, unknown> = {
  run: () => Promise.reject(new Error("this list has no remove action")),
  done: () => "",
};

/** A list's query with its remove action, which invalidates the list itself unless told otherwise. */
export function useList<T, V = string, R = unknown>(
  query: ListQuery<T>,
  remove?: RowActionOptions<V, R>,
): { list: ReturnType<typeof useQuery<T, Error, T, QueryKey>>; remove: RowAction<V> } {
  const list = useQuery(query);
  const removeAction = useRowAction<V, R>({
    ...((remove ?? NO_REMOVE) as RowActionOptions<V, R>),
    invalidates: remove?.invalidates ?? [query.queryKey],
  });
  return { list, remove: removeAction };
}
