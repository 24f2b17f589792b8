// The one table of the list screens: columns, the loading, error, forbidden and empty states,
// optional sorting and row selection, and a row actions column that exists only when the caller
// passes actions (a viewer's table has none). Wide tables scroll inside their own box, never the page.
import type { ReactNode } from "react";
import { ApiProblem } from "../../api/client.ts";
import { cn } from "../../lib/cn.ts";
import { Button } from "./button.tsx";
import { Empty, ErrorNote } from "./card.tsx";

/** The link in a row to the row's own page. */
export const ROW_LINK = "font-medium text-sky-700 hover:underline dark:text-sky-400";

// Whole class names, so Tailwind finds them in the source.
const HIDE_BELOW = { sm: "hidden sm:table-cell", md: "hidden md:table-cell", lg: "hidden lg:table-cell" } as const;

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Classes of the cells (width, truncation, font). */
  className?: string;
  /** Columns that give way on narrow screens. */
  hideBelow?: keyof typeof HIDE_BELOW;
  /** Sortable by this key, when the table is given `sort`. */
  sortKey?: string;
}

export interface Sort {
  key: string;
  desc: boolean;
}

type RowAttributes = { className?: string } & { [data: `data-${string}`]: string | undefined };

/** What a table shows of its rows: declared once per list, beside its columns. */
export interface TableSpec<T> {
  columns: readonly Column<T>[];
  /** What tells rows apart; their `id` unless said otherwise. */
  rowKey?: (row: T) => string;
  /** Shown when the list is empty. */
  empty?: ReactNode;
  rowProps?: (row: T) => RowAttributes;
  label?: string;
}

export interface DataTableProps<T> {
  spec: TableSpec<T>;
  /** The list query's state (a TanStack Query result fits). */
  state: { isPending: boolean; error: unknown };
  rows: readonly T[] | undefined;
  actions?: (row: T) => ReactNode;
  sort?: { value: Sort; onChange: (next: Sort) => void };
  select?: { selected: ReadonlySet<string>; onChange: (next: Set<string>) => void; label: (row: T) => string };
}

const byId = (row: unknown) => (row as { id: string }).id;

export function DataTable<T>({ spec, state, rows, actions, sort, select }: DataTableProps<T>) {
  const { columns, empty, rowProps, label, rowKey = byId } = spec;
  if (state.error) return <ListError error={state.error} />;
  if (state.isPending)
    return (
      <p role="status" className="py-6 text-center text-sm text-zinc-500">
        Loading…
      </p>
    );
  if (!rows || rows.length === 0) return empty ? <Empty>{empty}</Empty> : null;

  const cellClass = (c: Column<T>) => cn("py-2 pr-3", c.hideBelow && HIDE_BELOW[c.hideBelow], c.className);
  const allSelected = !!select && rows.every((r) => select.selected.has(rowKey(r)));
  const toggle = (key: string, on: boolean) => {
    if (!select) return;
    const next = new Set(select.selected);
    if (on) next.add(key);
    else next.delete(key);
    select.onChange(next);
  };

  return (
    <div className="overflow-x-auto" data-testid="table-scroll">
      <table className="w-full text-left text-sm" aria-label={label}>
        <thead className="text-xs text-zinc-500 uppercase">
          <tr>
            {select ? (
              <th className="w-8 py-2">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={allSelected}
                  onChange={(e) => select.onChange(e.target.checked ? new Set(rows.map(rowKey)) : new Set())}
                />
              </th>
            ) : null}
            {columns.map((c) => (
              <th
                key={c.header}
                className={cn("py-2 pr-3", c.hideBelow && HIDE_BELOW[c.hideBelow])}
                aria-sort={
                  sort && c.sortKey ? (sort.value.key === c.sortKey ? (sort.value.desc ? "descending" : "ascending") : "none") : undefined
                }
              >
                {sort && c.sortKey ? <SortButton column={c.header} sortKey={c.sortKey} sort={sort} /> : c.header}
              </th>
            ))}
            {actions ? <th className="py-2 text-right">Actions</th> : null}
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {rows.map((row) => {
            const key = rowKey(row);
            return (
              <tr key={key} {...rowProps?.(row)}>
                {select ? (
                  <td className="py-2">
                    <input
                      type="checkbox"
                      aria-label={`Select ${select.label(row)}`}
                      checked={select.selected.has(key)}
                      onChange={(e) => toggle(key, e.target.checked)}
                    />
                  </td>
                ) : null}
                {columns.map((c) => (
                  <td key={c.header} className={cellClass(c)}>
                    {c.cell(row)}
                  </td>
                ))}
                {actions ? <td className="py-2 text-right whitespace-nowrap">{actions(row)}</td> : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function SortButton({ column, sortKey, sort }: { column: string; sortKey: string; sort: NonNullable<DataTableProps<unknown>["sort"]> }) {
  const active = sort.value.key === sortKey;
  return (
    <button
      type="button"
      className="uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
      onClick={() => sort.onChange({ key: sortKey, desc: active ? !sort.value.desc : false })}
    >
      {column}
      {active ? (sort.value.desc ? " ↓" : " ↑") : ""}
    </button>
  );
}

/** A 403 says so in words a viewer understands, with the API's own reason. */
function ListError({ error }: { error: unknown }) {
  if (error instanceof ApiProblem && error.status === 403)
    return (
      <p
        role="alert"
        data-state="forbidden"
        className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200"
      >
        Your role cannot see this list: {error.detail}
      </p>
    );
  return <ErrorNote error={error} />;
}

/** A row's remove button; the list's remove action asks first. */
export function RemoveButton({ busy, onClick, label = "Remove" }: { busy: boolean; onClick: () => void; label?: string }) {
  return (
    <Button size="sm" variant="danger" busy={busy} onClick={onClick}>
      {label}
    </Button>
  );
}
