// The audit log: filters kept in the URL (shareable, back button works), server-side paging,
// and the API's CSV export downloaded with the session token.
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { exportAuditLogs, listAuditLogs } from "../../api/endpoints";
import type { AuditFilters } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Card, EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { Field, Input, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { AuditTable } from "./AuditTable";

const PAGE_SIZE = 50;
const FILTER_KEYS = [
  "event_type",
  "status",
  "source",
  "resource",
  "start_date",
  "end_date",
] as const;

function filtersOf(params: URLSearchParams): AuditFilters {
  const filters: AuditFilters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

function download(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function FilterForm({
  initial,
  onApply,
}: {
  initial: AuditFilters;
  onApply: (f: AuditFilters) => void;
}) {
  const [draft, setDraft] = useState<AuditFilters>(initial);
  const set = (key: keyof AuditFilters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <Card className="mb-4">
      <form onSubmit={submit} className="grid grid-cols-6 items-end gap-3" aria-label="Filters">
        <Field label="Event" htmlFor="filter-event">
          <Input
            id="filter-event"
            placeholder="login_failed"
            value={draft.event_type ?? ""}
            onChange={set("event_type")}
          />
        </Field>
        <Field label="Resource prefix" htmlFor="filter-resource">
          <Input id="filter-resource" value={draft.resource ?? ""} onChange={set("resource")} />
        </Field>
        <Field label="Status" htmlFor="filter-status">
          <NativeSelect id="filter-status" value={draft.status ?? ""} onChange={set("status")}>
            <option value="">Any</option>
            <option value="success">Success</option>
            <option value="failed">Failed</option>
            <option value="denied">Denied</option>
          </NativeSelect>
        </Field>
        <Field label="Source" htmlFor="filter-source">
          <NativeSelect id="filter-source" value={draft.source ?? ""} onChange={set("source")}>
            <option value="">Any</option>
            <option value="console">Console</option>
            <option value="s3">S3</option>
          </NativeSelect>
        </Field>
        <Field label="From" htmlFor="filter-start">
          <Input
            id="filter-start"
            type="date"
            value={draft.start_date ?? ""}
            onChange={set("start_date")}
          />
        </Field>
        <Field label="To" htmlFor="filter-end">
          <Input
            id="filter-end"
            type="date"
            value={draft.end_date ?? ""}
            onChange={set("end_date")}
          />
        </Field>
        <div className="col-span-6 flex justify-end gap-2">
          <Button
            variant="secondary"
            onClick={() => {
              setDraft({});
              onApply({});
            }}
          >
            Clear
          </Button>
          <Button type="submit">Apply filters</Button>
        </div>
      </form>
    </Card>
  );
}

export default function AuditPage() {
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const query = useQuery({
    queryKey: ["audit", filters, page],
    queryFn: () => listAuditLogs(filters, page, PAGE_SIZE),
    placeholderData: keepPreviousData,
  });
  const exporting = useMutation({
    mutationFn: () => exportAuditLogs(filters),
    onSuccess: (blob) =>
      download(blob, `maxiofs-audit-${new Date().toISOString().slice(0, 10)}.csv`),
    onError: (error) => toast.error(error, "Export failed"),
  });
  const apply = (next: AuditFilters, nextPage = 1) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) if (value) search.set(key, value);
    if (nextPage > 1) search.set("page", String(nextPage));
    setParams(search);
  };
  const total = query.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Console actions, S3 writes and denied requests, newest first."
        actions={
          <Button
            variant="secondary"
            disabled={exporting.isPending}
            onClick={() => exporting.mutate()}
          >
            {exporting.isPending ? "Exporting…" : "Export CSV"}
          </Button>
        }
      />
      <FilterForm key={params.toString()} initial={filters} onApply={(next) => apply(next)} />
      {query.isPending ? (
        <SkeletonRows rows={8} />
      ) : query.error ? (
        <EmptyState title="The audit log could not be read" description={query.error.message} />
      ) : query.data.logs.length === 0 ? (
        <EmptyState title="No entries match" description="Widen the dates or clear the filters." />
      ) : (
        <AuditTable entries={query.data.logs} />
      )}
      <nav aria-label="Pagination" className="mt-4 flex items-center justify-between text-sm">
        <span className="text-muted-fg" data-testid="audit-total">
          {total.toLocaleString()} entries · page {page} of {pages}
        </span>
        <div className="flex gap-2">
          <Button
            variant="secondary"
            size="sm"
            disabled={page <= 1}
            onClick={() => apply(filters, page - 1)}
          >
            Previous
          </Button>
          <Button
            variant="secondary"
            size="sm"
            disabled={page >= pages}
            onClick={() => apply(filters, page + 1)}
          >
            Next
          </Button>
        </div>
      </nav>
    </>
  );
}
