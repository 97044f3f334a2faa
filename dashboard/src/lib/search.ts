import { useNavigate } from "@tanstack/react-router";
import type { Paging } from "@/components/data-table";

/** A list page's URL: its filters plus the API cursor of the page shown and the trail back to the first. */
export interface ListSearch {
  cursor?: string;
  /** Comma-joined cursors of the pages before this one ("-" is the first page); cursors are base64url. */
  back?: string;
}

export const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, 200) : undefined;

export const oneOf = <T extends string>(value: unknown, options: readonly T[]): T | undefined =>
  typeof value === "string" && (options as readonly string[]).includes(value) ? (value as T) : undefined;

export function listSearch(search: Record<string, unknown>): ListSearch {
  return { cursor: text(search.cursor), back: text(search.back) };
}

/** Paging handlers that keep the page in the URL, and a filter setter that goes back to the first page. */
export function useListUrl<S extends ListSearch>(search: S, nextCursor: string | null | undefined) {
  const navigate = useNavigate();
  const go = (next: S) => navigate({ to: ".", search: next as never });
  const trail = search.back ? search.back.split(",") : [];
  const paging: Paging = {
    nextCursor,
    hasPrevious: trail.length > 0,
    onNext: (cursor) => go({ ...search, cursor, back: [...trail, search.cursor ?? "-"].join(",") }),
    onPrevious: () => {
      const previous = trail[trail.length - 1];
      go({
        ...search,
        cursor: previous === "-" ? undefined : previous,
        back: trail.slice(0, -1).join(",") || undefined,
      });
    },
  };
  /** Filter values as the filter bar gives them (the route's validateSearch re-checks them from the URL). */
  const setFilters = (filters: Record<string, string | undefined>) =>
    go({ ...search, ...filters, cursor: undefined, back: undefined } as S);
  /** What the API takes: the filters and the cursor, without the trail. */
  const { back: _back, ...query } = search;
  return { paging, setFilters, query };
}
