// The upload queue of the object browser: one entry per file, uploaded a few at a time, each
// with its progress, cancel (a multipart upload is aborted on the server too) and retry
// (a multipart upload resumes with the parts already stored).
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";
import type { MultipartState, S3Client } from "../../api/s3";
import { toast } from "../../components/ui/Toast";
import { MULTIPART_THRESHOLD_BYTES, planParts } from "./objectPaths";

/** Files uploading at once (each multipart upload also sends a few parts at once). */
const FILES_IN_FLIGHT = 2;

export type UploadStatus = "queued" | "uploading" | "done" | "failed" | "cancelled";

export interface Upload {
  id: number;
  key: string;
  sizeBytes: number;
  sentBytes: number;
  status: UploadStatus;
  multipart: boolean;
  error?: string;
}

interface Job {
  file: File;
  key: string;
  controller: AbortController;
  resume: MultipartState;
}

let nextUploadId = 1;

export function useUploads(client: S3Client, bucket: string) {
  const queryClient = useQueryClient();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const jobs = useRef(new Map<number, Job>());
  const queue = useRef<number[]>([]);
  const running = useRef(0);

  const update = useCallback((id: number, change: Partial<Upload>) => {
    setUploads((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)));
  }, []);

  const pump = useCallback(() => {
    while (running.current < FILES_IN_FLIGHT && queue.current.length > 0) {
      const id = queue.current.shift() as number;
      const job = jobs.current.get(id);
      if (!job || job.controller.signal.aborted) continue;
      running.current += 1;
      void run(id, job).finally(() => {
        running.current -= 1;
        pump();
      });
    }

    async function run(id: number, job: Job) {
      const key = job.key;
      update(id, { status: "uploading", error: undefined });
      const { partSizeBytes } = planParts(job.file.size);
      try {
        await client.upload(
          bucket,
          key,
          job.file,
          { thresholdBytes: MULTIPART_THRESHOLD_BYTES, partSizeBytes },
          {
            signal: job.controller.signal,
            resume: job.resume,
            onProgress: (sentBytes) => update(id, { sentBytes }),
          },
        );
        update(id, { status: "done", sentBytes: job.file.size });
        jobs.current.delete(id);
        await queryClient.invalidateQueries({ queryKey: ["s3-objects", bucket] });
      } catch (error) {
        if (job.controller.signal.aborted) {
          update(id, { status: "cancelled" });
          if (job.resume.uploadId) {
            await client.abortMultipart(bucket, key, job.resume.uploadId).catch(() => {});
          }
          jobs.current.delete(id);
          return;
        }
        update(id, { status: "failed", error: (error as Error).message });
        toast.error(error, `Upload of ${key} failed`);
      }
    }
  }, [bucket, client, queryClient, update]);

  const add = useCallback(
    (files: { file: File; key: string }[]) => {
      const added: Upload[] = files.map(({ file, key }) => {
        const id = nextUploadId++;
        jobs.current.set(id, {
          file,
          key,
          controller: new AbortController(),
          resume: { uploadId: null, etags: [] },
        });
        queue.current.push(id);
        return {
          id,
          key,
          sizeBytes: file.size,
          sentBytes: 0,
          status: "queued",
          multipart: file.size > MULTIPART_THRESHOLD_BYTES,
        };
      });
      setUploads((list) => [...list, ...added]);
      pump();
    },
    [pump],
  );

  const cancel = useCallback(
    (id: number) => {
      const job = jobs.current.get(id);
      if (!job) return;
      job.controller.abort();
      // A queued or failed upload has no request to end: it is cancelled here.
      setUploads((list) =>
        list.map((item) =>
          item.id === id && item.status !== "uploading" ? { ...item, status: "cancelled" } : item,
        ),
      );
      // A failed multipart upload waits for a retry with its parts stored: drop them.
      const failed = uploads.find((item) => item.id === id)?.status === "failed";
      if (failed && job.resume.uploadId) {
        void client.abortMultipart(bucket, job.key, job.resume.uploadId).catch(() => {});
      }
      if (failed) jobs.current.delete(id);
    },
    [bucket, client, uploads],
  );

  const retry = useCallback(
    (id: number) => {
      const job = jobs.current.get(id);
      if (!job) return;
      job.controller = new AbortController();
      update(id, { status: "queued" });
      queue.current.push(id);
      pump();
    },
    [pump, update],
  );

  const clearFinished = useCallback(() => {
    setUploads((list) =>
      list.filter((item) => item.status === "uploading" || item.status === "queued"),
    );
  }, []);

  return { uploads, add, cancel, retry, clearFinished };
}
