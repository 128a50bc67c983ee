import type { HTMLAttributes, ReactNode } from "react";
import { cn } from "../../lib";

export function Card({ className, ...props }: HTMLAttributes<HTMLDivElement>) {
  return (
    <div className={cn("rounded-lg border border-border bg-card p-4", className)} {...props} />
  );
}

export function Skeleton({ className }: { className?: string }) {
  return (
    <div
      aria-hidden="true"
      className={cn("animate-pulse rounded-md bg-muted", className ?? "h-4 w-full")}
    />
  );
}

/** Rows of skeleton bars while a list loads. */
export function SkeletonRows({ rows = 5 }: { rows?: number }) {
  return (
    <div className="flex flex-col gap-3" role="status" aria-label="Loading">
      {Array.from({ length: rows }, (_, index) => (
        <Skeleton key={index} className="h-8 w-full" />
      ))}
    </div>
  );
}

const EMPTY = "flex flex-col items-center gap-2 rounded-lg border border-dashed p-10 text-center";

export function EmptyState({
  title,
  description,
  action,
}: {
  title: string;
  description?: string;
  action?: ReactNode;
}) {
  return (
    <div className={EMPTY}>
      <p className="font-medium">{title}</p>
      {description ? <p className="text-sm text-muted-fg">{description}</p> : null}
      {action}
    </div>
  );
}

export function Badge({ children, tone = "muted" }: { children: ReactNode; tone?: string }) {
  const tones: Record<string, string> = {
    muted: "bg-muted text-muted-fg",
    success: "bg-green-600/15 text-green-600",
    danger: "bg-red-600/15 text-red-500",
    info: "bg-blue-600/15 text-blue-500",
  };
  return (
    <span
      className={cn(
        "rounded px-2 py-0.5 text-xs font-medium whitespace-nowrap",
        tones[tone] ?? tones.muted,
      )}
    >
      {children}
    </span>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: string;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-6 flex items-start justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold">{title}</h1>
        {description ? <p className="mt-1 text-sm text-muted-fg">{description}</p> : null}
      </div>
      {actions ? <div className="flex gap-2">{actions}</div> : null}
    </div>
  );
}

/** Label and value pairs in two aligned columns (a bucket's or a user's overview). */
export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[10rem_1fr] gap-y-2 text-sm">
      {rows.map(([label, value]) => (
        <div key={label} className="contents">
          <dt className="text-muted-fg">{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A list's place on a page: skeleton rows while it loads, the error if it failed, `empty`
 * (its empty state with a next step) when given, else the list itself. */
export function ListState({
  query,
  rows = 4,
  failed,
  empty,
  children,
}: {
  query: { isPending: boolean; error: Error | null };
  rows?: number;
  /** The error's title: "Buckets could not be listed". */
  failed: string;
  /** Given (or true-ish) only when there is nothing to list. */
  empty?: ReactNode;
  children: ReactNode;
}) {
  if (query.isPending) return <SkeletonRows rows={rows} />;
  if (query.error) return <EmptyState title={failed} description={query.error.message} />;
  return empty ? empty : children;
}
