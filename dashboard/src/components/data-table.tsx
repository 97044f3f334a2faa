import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";
import { ChevronLeft, ChevronRight } from "lucide-react";
import { messageOf } from "@/api/client";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";

export interface Paging {
  /** The API's nextCursor of the page shown. */
  nextCursor: string | null | undefined;
  hasPrevious: boolean;
  onNext(cursor: string): void;
  onPrevious(): void;
}

interface DataTableProps<T> {
  caption: string;
  columns: ColumnDef<T, any>[];
  rows: T[] | undefined;
  loading: boolean;
  error: unknown;
  empty: string;
  paging?: Paging;
  onRetry?: () => void;
  /** Orders the rows of the page shown (the API pages newest first). */
  sorting?: SortingState;
}

/** One TanStack Table for every list: loading, error and empty states, and the API's cursor pages. */
export function DataTable<T>({
  caption,
  columns,
  rows,
  loading,
  error,
  empty,
  paging,
  onRetry,
  sorting,
}: DataTableProps<T>) {
  const table = useReactTable({
    data: rows ?? [],
    columns,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    ...(sorting ? { initialState: { sorting } } : {}),
  });
  if (error)
    return (
      <Alert variant="destructive">
        <AlertTitle>Could not load {caption.toLowerCase()}</AlertTitle>
        <AlertDescription className="flex items-center gap-3">
          <span>{messageOf(error)}</span>
          {onRetry && (
            <Button size="sm" variant="outline" onClick={onRetry}>
              Try again
            </Button>
          )}
        </AlertDescription>
      </Alert>
    );
  return (
    <div className="space-y-2">
      <div className="rounded-lg border">
        <Table aria-busy={loading} label={caption}>
          <TableCaption className="sr-only">{caption}</TableCaption>
          <TableHeader>
            {table.getHeaderGroups().map((group) => (
              <TableRow key={group.id}>
                {group.headers.map((header) => (
                  <TableHead key={header.id}>
                    {header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext())}
                  </TableHead>
                ))}
              </TableRow>
            ))}
          </TableHeader>
          <TableBody>
            {loading ? (
              Array.from({ length: 5 }, (_, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: placeholder rows have nothing else to key on
                <TableRow key={i}>
                  <TableCell colSpan={columns.length}>
                    <Skeleton className="h-5 w-full" />
                  </TableCell>
                </TableRow>
              ))
            ) : table.getRowModel().rows.length === 0 ? (
              <TableRow>
                <TableCell colSpan={columns.length} className="h-16 text-center text-muted-foreground">
                  {empty}
                </TableCell>
              </TableRow>
            ) : (
              table.getRowModel().rows.map((row) => (
                <TableRow key={row.id}>
                  {row.getVisibleCells().map((cell) => (
                    <TableCell key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</TableCell>
                  ))}
                </TableRow>
              ))
            )}
          </TableBody>
        </Table>
      </div>
      {paging && (paging.hasPrevious || paging.nextCursor) && (
        <nav aria-label={`${caption} pages`} className="flex justify-end gap-2">
          <Button variant="outline" size="sm" disabled={!paging.hasPrevious} onClick={paging.onPrevious}>
            <ChevronLeft /> Previous
          </Button>
          <Button
            variant="outline"
            size="sm"
            disabled={!paging.nextCursor}
            onClick={() => paging.nextCursor && paging.onNext(paging.nextCursor)}
          >
            Next <ChevronRight />
          </Button>
        </nav>
      )}
    </div>
  );
}
