// The object browser (issue 18): a bucket's keys as folders (prefixes split at "/"), listed
// straight from the S3 port with the user's short-lived credentials, a page of 1000 keys at a
// time; upload by picker or drag and drop, download, share, delete, details.
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { Button } from "../../components/ui/Button";
import { EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { Input } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { cn, formatBytes, formatDate } from "../../lib";
import { droppedFiles } from "./dropped";
import { NewFolderDialog } from "./NewFolderDialog";
import { ObjectDetails } from "./ObjectDetails";
import {
  breadcrumbs,
  displayName,
  LIST_PAGE_KEYS,
  normalizeFolder,
  sortEntries,
  uploadKey,
  type Entry,
  type SortKey,
} from "./objectPaths";
import { ShareDialog } from "./ShareDialog";
import { UploadList } from "./UploadList";
import { useS3 } from "./useS3";
import { useUploads } from "./useUploads";

/** How long the typed search waits for the next key before listing. */
const SEARCH_DELAY_MS = 250;

function useDebounced(value: string): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [value]);
  return settled;
}

const SORT_LABELS: [SortKey, string][] = [
  ["name", "Name"],
  ["size", "Size"],
  ["modified", "Last modified"],
];

export default function ObjectBrowserPage() {
  const { bucket = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const folder = normalizeFolder(params.get("prefix") ?? "");
  const [search, setSearch] = useState("");
  const listPrefix = folder + useDebounced(search);
  const { client, credentials } = useS3();
  const queryClient = useQueryClient();
  const list = useInfiniteQuery({
    queryKey: ["s3-objects", bucket, listPrefix],
    queryFn: ({ pageParam, signal }) =>
      client.listObjects(bucket, {
        prefix: listPrefix,
        token: pageParam,
        maxKeys: LIST_PAGE_KEYS,
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextToken,
    enabled: credentials.isSuccess,
  });
  const [sort, setSort] = useState<{ by: SortKey; descending: boolean }>({
    by: "name",
    descending: false,
  });
  const entries = useMemo(() => {
    const rows: Entry[] = [];
    for (const page of list.data?.pages ?? []) {
      for (const key of page.folders)
        rows.push({ kind: "folder", key, sizeBytes: 0, lastModified: "" });
      for (const object of page.objects) rows.push({ kind: "object", ...object });
    }
    return sortEntries(rows, sort.by, sort.descending);
  }, [list.data, sort]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [sharing, setSharing] = useState<string | null>(null);
  const [details, setDetails] = useState<string | null>(null);
  const uploads = useUploads(client, bucket);
  const filePicker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [naming, setNaming] = useState(false);

  const openFolder = (prefix: string) => {
    setSearch("");
    setSelected(new Set());
    setParams(prefix ? { prefix } : {});
  };
  const removal = useMutation({
    mutationFn: (keys: string[]) => client.deleteObjects(bucket, keys),
    onSuccess: async (result) => {
      const first = result.errors[0];
      if (first) {
        toast.error(
          new Error(`${first.key}: ${first.code} ${first.message}`),
          `${result.errors.length} not deleted`,
        );
      } else {
        toast.success(`Deleted ${result.deleted.length} objects`);
      }
      setSelected(new Set());
      setConfirming(false);
      await queryClient.invalidateQueries({ queryKey: ["s3-objects", bucket] });
    },
    onError: (error) => toast.error(error, "Objects not deleted"),
  });
  const download = async (key: string) => {
    try {
      const url = await client.presignGet(bucket, key, 300, { download: true });
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.download = key.slice(key.lastIndexOf("/") + 1);
      anchor.click();
    } catch (error) {
      toast.error(error, "Download failed");
    }
  };
  const addFiles = (files: { file: File; path: string }[]) =>
    uploads.add(files.map(({ file, path }) => ({ file, key: uploadKey(folder, path) })));
  const onDrop = async (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    addFiles(await droppedFiles(event.dataTransfer));
  };
  const toggle = (key: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  const objectKeys = entries.filter((entry) => entry.kind === "object").map((entry) => entry.key);
  const allSelected = objectKeys.length > 0 && objectKeys.every((key) => selected.has(key));

  if (credentials.error) {
    return (
      <>
        <PageHeader title={bucket} description="Objects" />
        <EmptyState
          title="Objects cannot be browsed here"
          description={credentials.error.message}
        />
      </>
    );
  }
  return (
    <div
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => void onDrop(event)}
      className={cn(dragging && "rounded-lg outline-2 outline-dashed outline-primary")}
      data-testid="drop-zone"
    >
      <PageHeader
        title={bucket}
        description="Objects, read and written with your own S3 credentials"
        actions={
          <>
            <Button variant="secondary" asChild>
              <Link to={`/buckets/${encodeURIComponent(bucket)}`}>Settings</Link>
            </Button>
            <Button variant="secondary" onClick={() => setNaming(true)}>
              New folder
            </Button>
            <Button variant="secondary" onClick={() => folderPicker.current?.click()}>
              Upload folder
            </Button>
            <Button onClick={() => filePicker.current?.click()}>Upload files</Button>
          </>
        }
      />
      <input
        ref={filePicker}
        type="file"
        multiple
        hidden
        aria-label="Files to upload"
        onChange={(event) => {
          addFiles(Array.from(event.target.files ?? [], (file) => ({ file, path: file.name })));
          event.target.value = "";
        }}
      />
      <input
        ref={folderPicker}
        type="file"
        hidden
        aria-label="Folder to upload"
        {...{ webkitdirectory: "" }}
        onChange={(event) => {
          addFiles(
            Array.from(event.target.files ?? [], (file) => ({
              file,
              path: file.webkitRelativePath || file.name,
            })),
          );
          event.target.value = "";
        }}
      />
      <nav aria-label="Breadcrumbs" className="mb-3 flex flex-wrap items-center gap-1 text-sm">
        {breadcrumbs(bucket, folder).map((crumb, idx, all) => (
          <span key={crumb.prefix} className="flex items-center gap-1">
            {idx > 0 ? <span className="text-muted-fg">/</span> : null}
            {idx === all.length - 1 ? (
              <span aria-current="page" className="font-medium">
                {crumb.label}
              </span>
            ) : (
              <button
                type="button"
                className="text-primary hover:underline"
                onClick={() => openFolder(crumb.prefix)}
              >
                {crumb.label}
              </button>
            )}
          </span>
        ))}
      </nav>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <Input
          aria-label="Search by prefix"
          placeholder={`Search in ${folder || "/"} by prefix`}
          value={search}
          onChange={(event) => {
            // A selection hidden by the new search must not be deleted unseen.
            setSearch(event.target.value);
            setSelected(new Set());
          }}
          className="max-w-sm"
        />
        <span className="text-sm text-muted-fg" data-testid="listed-count">
          {entries.length.toLocaleString()} listed{list.hasNextPage ? " (more to load)" : ""}
        </span>
        <div className="ml-auto">
          <Button
            variant="danger"
            disabled={selected.size === 0}
            onClick={() => setConfirming(true)}
          >
            Delete selected ({selected.size})
          </Button>
        </div>
      </div>
      <UploadList
        uploads={uploads.uploads}
        onCancel={uploads.cancel}
        onRetry={uploads.retry}
        onClear={uploads.clearFinished}
      />
      {list.isPending ? (
        <SkeletonRows rows={8} />
      ) : list.error ? (
        <EmptyState title="Objects could not be listed" description={list.error.message} />
      ) : entries.length === 0 ? (
        <EmptyState
          title={search ? "Nothing matches this prefix" : "This folder is empty"}
          description="Drop files or folders here, or use Upload files."
        />
      ) : (
        <div className="overflow-x-auto rounded-lg border border-border">
          <table className="w-full text-left text-sm" aria-label="Objects">
            <thead className="bg-muted text-muted-fg">
              <tr>
                <th scope="col" className="w-8 px-3 py-2">
                  <input
                    type="checkbox"
                    aria-label="Select all listed objects"
                    checked={allSelected}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(objectKeys))}
                  />
                </th>
                {SORT_LABELS.map(([by, label]) => (
                  <th
                    key={by}
                    scope="col"
                    className="px-3 py-2 font-medium"
                    aria-sort={
                      sort.by === by ? (sort.descending ? "descending" : "ascending") : undefined
                    }
                  >
                    <button
                      type="button"
                      onClick={() =>
                        setSort({ by, descending: sort.by === by ? !sort.descending : false })
                      }
                    >
                      {label} {sort.by === by ? (sort.descending ? "▼" : "▲") : ""}
                    </button>
                  </th>
                ))}
                <th scope="col" className="px-3 py-2 text-right font-medium">
                  Actions
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <ObjectRow
                  key={`${entry.kind}:${entry.key}`}
                  entry={entry}
                  folder={folder}
                  selected={selected.has(entry.key)}
                  onToggle={() => toggle(entry.key)}
                  onOpen={() => openFolder(entry.key)}
                  onDownload={() => void download(entry.key)}
                  onShare={() => setSharing(entry.key)}
                  onDetails={() => setDetails(entry.key)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage ? (
        <div className="mt-3 flex justify-center">
          <Button
            variant="secondary"
            disabled={list.isFetchingNextPage}
            onClick={() => void list.fetchNextPage()}
          >
            {list.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      ) : null}
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title={`Delete ${selected.size} objects?`}
        description={`${[...selected].slice(0, 5).join(", ")}${selected.size > 5 ? ", …" : ""} will be deleted. In a versioned bucket a delete marker hides them instead.`}
        confirmLabel="Delete objects"
        pending={removal.isPending}
        onConfirm={() => removal.mutate([...selected])}
      />
      <NewFolderDialog
        open={naming}
        onOpenChange={setNaming}
        onCreate={(name) => {
          setNaming(false);
          openFolder(normalizeFolder(folder + name));
        }}
      />
      <ShareDialog
        client={client}
        bucket={bucket}
        objectKey={sharing}
        onClose={() => setSharing(null)}
      />
      <ObjectDetails
        client={client}
        bucket={bucket}
        objectKey={details}
        onClose={() => setDetails(null)}
      />
    </div>
  );
}

function ObjectRow({
  entry,
  folder,
  selected,
  onToggle,
  onOpen,
  onDownload,
  onShare,
  onDetails,
}: {
  entry: Entry;
  folder: string;
  selected: boolean;
  onToggle: () => void;
  onOpen: () => void;
  onDownload: () => void;
  onShare: () => void;
  onDetails: () => void;
}) {
  const name = displayName(entry.key, folder);
  if (entry.kind === "folder") {
    return (
      <tr className="border-t border-border hover:bg-muted/50">
        <td className="px-3 py-2" />
        <td className="px-3 py-2">
          <button
            type="button"
            className="font-medium text-primary hover:underline"
            onClick={onOpen}
          >
            📁 {name}
          </button>
        </td>
        <td className="px-3 py-2 text-muted-fg">—</td>
        <td className="px-3 py-2 text-muted-fg">—</td>
        <td />
      </tr>
    );
  }
  return (
    <tr className="border-t border-border hover:bg-muted/50">
      <td className="px-3 py-2">
        <input
          type="checkbox"
          aria-label={`Select ${entry.key}`}
          checked={selected}
          onChange={onToggle}
        />
      </td>
      <td className="px-3 py-2 font-mono text-xs">{name}</td>
      <td className="px-3 py-2">{formatBytes(entry.sizeBytes)}</td>
      <td className="px-3 py-2">{formatDate(entry.lastModified)}</td>
      <td className="px-3 py-2">
        <div className="flex justify-end gap-1">
          <Button
            variant="ghost"
            size="sm"
            aria-label={`Download ${entry.key}`}
            onClick={onDownload}
          >
            Download
          </Button>
          <Button variant="ghost" size="sm" aria-label={`Share ${entry.key}`} onClick={onShare}>
            Share
          </Button>
          <Button
            variant="ghost"
            size="sm"
            aria-label={`Details of ${entry.key}`}
            onClick={onDetails}
          >
            Details
          </Button>
        </div>
      </td>
    </tr>
  );
}
