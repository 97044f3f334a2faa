import type * as React from "react";
import { messageOf } from "@/api/client";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Skeleton } from "@/components/ui/skeleton";

export function PageHeader({
  title,
  description,
  children,
}: {
  title: string;
  description?: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description && <p className="text-sm text-muted-foreground">{description}</p>}
      </div>
      {children && <div className="flex flex-wrap gap-2">{children}</div>}
    </div>
  );
}

/** Loading and error states of a page or panel that shows one thing. */
export function Loadable({
  loading,
  error,
  children,
}: {
  loading: boolean;
  error: unknown;
  children: () => React.ReactNode;
}) {
  if (error)
    return (
      <Alert variant="destructive">
        <AlertDescription>{messageOf(error)}</AlertDescription>
      </Alert>
    );
  if (loading) return <Skeleton className="h-32 w-full" aria-label="Loading" />;
  return <>{children()}</>;
}

/** A definition list of label/value pairs. */
export function Facts({ items }: { items: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1.5 text-sm">
      {items.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted-foreground">{label}</dt>
          <dd className="break-words">{value ?? "—"}</dd>
        </div>
      ))}
    </dl>
  );
}
