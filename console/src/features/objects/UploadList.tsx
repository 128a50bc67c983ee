import { Button } from "../../components/ui/Button";
import { formatBytes } from "../../lib";
import type { Upload } from "./useUploads";

const STATUS_TEXT: Record<Upload["status"], string> = {
  queued: "Queued",
  uploading: "Uploading",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The upload queue: one progress bar per file, with cancel and retry. */
export function UploadList({
  uploads,
  onCancel,
  onRetry,
  onClear,
}: {
  uploads: Upload[];
  onCancel: (id: number) => void;
  onRetry: (id: number) => void;
  onClear: () => void;
}) {
  if (uploads.length === 0) return null;
  return (
    <section aria-label="Uploads" className="mb-4 rounded-lg border border-border bg-card p-3">
      <div className="mb-2 flex items-center justify-between">
        <h2 className="text-sm font-semibold">Uploads</h2>
        <Button variant="ghost" size="sm" onClick={onClear}>
          Clear finished
        </Button>
      </div>
      <ul className="flex max-h-64 flex-col gap-2 overflow-y-auto">
        {uploads.map((upload) => {
          const percent =
            upload.sizeBytes === 0 ? 100 : Math.floor((upload.sentBytes / upload.sizeBytes) * 100);
          const active = upload.status === "uploading" || upload.status === "queued";
          return (
            <li key={upload.id} className="grid grid-cols-[1fr_14rem_auto] items-center gap-3">
              <div className="min-w-0">
                <p className="truncate font-mono text-xs" title={upload.key}>
                  {upload.key}
                </p>
                <p className="text-xs text-muted-fg" data-testid="upload-status">
                  {STATUS_TEXT[upload.status]} · {formatBytes(upload.sentBytes)} of{" "}
                  {formatBytes(upload.sizeBytes)}
                  {upload.multipart ? " · multipart" : ""}
                  {upload.error ? ` · ${upload.error}` : ""}
                </p>
              </div>
              <progress
                className="h-2 w-full"
                max={100}
                value={percent}
                aria-label={`Upload of ${upload.key}`}
              />
              <div className="flex gap-1">
                {active ? (
                  <Button
                    variant="ghost"
                    size="sm"
                    aria-label={`Cancel upload of ${upload.key}`}
                    onClick={() => onCancel(upload.id)}
                  >
                    Cancel
                  </Button>
                ) : null}
                {upload.status === "failed" ? (
                  <>
                    <Button variant="secondary" size="sm" onClick={() => onRetry(upload.id)}>
                      Resume
                    </Button>
                    <Button variant="ghost" size="sm" onClick={() => onCancel(upload.id)}>
                      Cancel
                    </Button>
                  </>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
